/**
 * Builds the single `runner` executable (a Node 24 SEA) and lays out its release assets.
 *
 *   node --import tsx scripts/build-sea.ts [--out release] [--node <node-24-binary>] [--version X] [--no-strip]
 *
 * Output (see src/release/layout.ts): runner-<os>-<arch>, runner-<os>-<arch>.tar.gz, checksums.txt,
 * latest.json. Only the host's OS/arch can be built: the blob must be written by the same Node binary
 * that is injected, and macOS binaries must be re-signed with codesign on a Mac.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { publishRelease } from '../src/release/publish.js';
import { releaseTarget } from '../src/release/target.js';
import { bundleCli } from './sea/bundle.js';
import { injectSea } from './sea/inject.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BuildSeaOptions {
  outDir: string;
  /** Defaults to the Node 24 binary of the `node` devDependency. */
  node?: string;
  /** Defaults to package.json's version. */
  version?: string;
  commit?: string;
  strip?: boolean;
  /** Remove what is in outDir first (default true), so checksums.txt lists only this build. */
  clean?: boolean;
}

export interface BuildSeaResult {
  binary: string;
  files: string[];
  version: string;
  bytes: number;
  ms: number;
}

export async function buildSea(opts: BuildSeaOptions): Promise<BuildSeaResult> {
  const started = Date.now();
  const target = releaseTarget();
  if (!target) throw new Error(`no release target for ${process.platform}-${process.arch}`);
  const node = opts.node ?? createRequire(join(root, 'package.json')).resolve('node/bin/node');
  const version = opts.version ?? (await packageVersion());
  const commit = opts.commit ?? gitCommit();
  const outDir = resolve(opts.outDir);
  if (opts.clean !== false) await rm(outDir, { recursive: true, force: true });

  const date = new Date().toISOString();
  const work = await mkdtemp(join(tmpdir(), 'runner-build-'));
  try {
    const bundle = join(work, 'runner.mjs');
    await bundleCli({
      entry: join(root, 'cmd/runner.ts'),
      outFile: bundle,
      version,
      commit,
      date,
    });
    const executable = join(work, 'runner');
    await injectSea({
      node,
      loader: join(root, 'scripts/sea/main.cjs'),
      bundle,
      outFile: executable,
      strip: opts.strip !== false,
    });
    const bytes = await readFile(executable);
    const files = await publishRelease({
      outDir,
      target,
      executable: bytes,
      metadata: { version, commit, date },
    });
    return {
      binary: join(outDir, files[0]!),
      files: files.map((f) => join(outDir, f)),
      version,
      bytes: bytes.length,
      ms: Date.now() - started,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The build's commit when it is cheap to know: RUNNER_BUILD_COMMIT, else git, else 'unknown'. */
function gitCommit(): string {
  if (process.env.RUNNER_BUILD_COMMIT) return process.env.RUNNER_BUILD_COMMIT;
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(root, 'release') },
      node: { type: 'string' },
      version: { type: 'string' },
      'no-strip': { type: 'boolean', default: false },
    },
  });
  const result = await buildSea({
    outDir: values.out,
    ...(values.node ? { node: values.node } : {}),
    ...(values.version ? { version: values.version } : {}),
    strip: !values['no-strip'],
  });
  const mb = (result.bytes / 1024 / 1024).toFixed(1);
  process.stdout.write(`built runner ${result.version} (${mb} MiB) in ${(result.ms / 1000).toFixed(1)} s:\n`);
  for (const f of result.files) process.stdout.write(`  ${f}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`build-sea: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
