import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NODE_FLAGS } from '../../src/runtime-flags.js';

const run = promisify(execFile);

/** Fixed by Node: the fuse the SEA loader looks for in the binary. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface InjectOptions {
  /** The Node 24 binary to copy; its version must match the one that writes the blob. */
  node: string;
  loader: string;
  bundle: string;
  outFile: string;
  /** Drop the debug symbols of the Node binary (~20 MB) when `strip` is available. */
  strip: boolean;
}

/** Writes a copy of `node` with the loader and the bundle injected as a Node single executable. */
export async function injectSea(opts: InjectOptions): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'runner-sea-'));
  try {
    const config = join(work, 'sea-config.json');
    const blob = join(work, 'sea.blob');
    await writeFile(
      config,
      JSON.stringify({
        main: opts.loader,
        output: blob,
        disableExperimentalSEAWarning: true,
        execArgv: NODE_FLAGS,
        assets: { 'runner.mjs': opts.bundle },
      }),
    );
    await run(opts.node, ['--experimental-sea-config', config]);
    await copyFile(opts.node, opts.outFile);
    await chmod(opts.outFile, 0o755);
    if (opts.strip && process.platform === 'linux') await stripSymbols(opts.outFile);
    const darwin = process.platform === 'darwin';
    if (darwin) await run('codesign', ['--remove-signature', opts.outFile]);
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
    await run(process.execPath, [
      postject,
      opts.outFile,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      SEA_FUSE,
      ...(darwin ? ['--macho-segment-name', 'NODE_SEA'] : []),
    ]);
    if (darwin) await run('codesign', ['--sign', '-', opts.outFile]);
    // A failed injection can leave the plain node binary behind; make sure the blob is really in it.
    if (!(await readFile(opts.outFile)).includes(Buffer.from(`${SEA_FUSE}:1`))) {
      throw new Error(`postject did not flip the SEA fuse in ${opts.outFile}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function stripSymbols(file: string): Promise<void> {
  try {
    await run('strip', [file]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    process.stderr.write("note: `strip` not found; the binary keeps Node's debug symbols (~20 MB larger)\n");
  }
}
