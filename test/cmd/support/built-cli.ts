import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../../../scripts/sea/bundle.js';
import { injectSea } from '../../../scripts/sea/inject.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const node24 = createRequire(join(repoRoot, 'package.json')).resolve('node/bin/node');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let bundle: Promise<string> | undefined;

/**
 * The CLI as shipped: the same esbuild bundle the single binary embeds, built once per test file
 * (it takes well under a second, and a tsc build of dist/ would race with other suites writing it).
 * Named after the worker's pid, so a later run can remove bundles whose worker is gone (forks are
 * not always given the chance to clean up after themselves).
 */
export function cliBundle(): Promise<string> {
  bundle ??= (async () => {
    const version = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')).version as string;
    const dir = join(tmpdir(), 'runner-cli-bundles');
    await mkdir(dir, { recursive: true });
    await pruneOrphanBundles(dir);
    const outFile = join(dir, `${process.pid}-${Date.now()}.mjs`);
    await bundleCli({
      entry: join(repoRoot, 'cmd/runner.ts'),
      outFile,
      version,
      commit: 'test',
      date: '2020-01-01T00:00:00.000Z',
    });
    return outFile;
  })();
  return bundle;
}

async function pruneOrphanBundles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid))
      await rm(join(dir, name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs an executable to completion; never rejects on a non-zero exit. */
export function runFile(file: string, args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolvePromise({
          code: err ? (err.code as number) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
  });
}

/** `runner <args>` via node 24 and the bundle; NO_COLOR and a non-TTY, as in a script. */
export async function runCli(args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
  return runFile(node24, [await cliBundle(), ...args], opts);
}

/**
 * The single executable, built from the current sources into a content-addressed cache: suites that
 * need it share one build, and a build that is interrupted never leaves a half-written binary behind
 * (it is renamed into place only when complete).
 */
export async function seaBinary(): Promise<string> {
  const bundleFile = await cliBundle();
  const loader = join(repoRoot, 'scripts/sea/main.cjs');
  const hash = createHash('sha256')
    .update(await readFile(bundleFile))
    .update(await readFile(loader))
    .update(node24)
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'runner-sea-cache');
  const binary = join(dir, `runner-${hash}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  await pruneCache(dir);
  const partial = `${binary}.${process.pid}.partial`;
  try {
    await injectSea({ node: node24, loader, bundle: bundleFile, outFile: partial, strip: true });
    await rename(partial, binary);
  } finally {
    await rm(partial, { force: true });
  }
  return binary;
}

/** Drops binaries of earlier sources (~100 MB each) that nothing has used for an hour. */
async function pruneCache(dir: string): Promise<void> {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of await readdir(dir)) {
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && info.atimeMs < hourAgo && info.mtimeMs < hourAgo) await rm(file, { force: true });
  }
}

/** Resolves the exit of `command -v node` in `env`, to prove a PATH really hides node. */
export async function nodeOnPath(env: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await runFile('/bin/sh', ['-c', 'command -v node'], { env });
  return r.code === 0;
}
