import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeExecutable, makeRelease, tamperChecksum } from '../update/fixtures.js';
import { ReleaseServer } from '../update/release-server.js';
import { node24, runCli, runFile, seaBinary } from './support/built-cli.js';
import { installNpmBin } from './support/npm-bin.js';

const sha = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/** The environment a user's shell would give, minus any release URL the developer may have set. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { RUNNER_RELEASE_BASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, ...extra };
}

describe('runner update (the single binary, against a local release server)', () => {
  let dir: string;
  let server: ReleaseServer;
  let sea: string;
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-update-cli-'));
    sea = await seaBinary();
    server = await ReleaseServer.start(join(dir, 'releases'));
    await makeRelease(join(dir, 'releases'), '9.9.9');
    await tamperChecksum(await makeRelease(join(dir, 'releases'), '8.8.8'));
    server.latest = '9.9.9';
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh copy of the built binary, as install.sh would have put it. */
  async function installed(): Promise<string> {
    const binDir = join(dir, `bin${n++}`);
    await mkdir(binDir);
    const bin = join(binDir, 'runner');
    await copyFile(sea, bin);
    return bin;
  }

  it('--check says a newer release exists and changes nothing', async () => {
    const bin = await installed();
    const before = await sha(bin);
    const r = await runFile(bin, ['update', '--check', '--base-url', server.baseUrl], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^runner 9\.9\.9 is available \(this is \d+\.\d+\.\d+\); install it with `runner update`\n$/,
    );
    expect(await sha(bin)).toBe(before);
  });

  it('without a terminal and without --yes it refuses and says to pass --yes', async () => {
    const bin = await installed();
    const before = await sha(bin);
    const r = await runFile(bin, ['update'], { env: env({ RUNNER_RELEASE_BASE_URL: server.baseUrl }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pass --yes');
    expect(await sha(bin)).toBe(before);
  });

  it('a tampered checksum is refused; the binary is untouched and still runs', async () => {
    const bin = await installed();
    const before = await sha(bin);
    const r = await runFile(bin, ['update', '--yes', '--version', '8.8.8', '--base-url', server.baseUrl], {
      env: env(),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: runner-.*\.tar\.gz does not match checksums\.txt .*nothing was changed/);
    expect(await sha(bin)).toBe(before);
    expect((await runFile(bin, ['version', '--short'], { env: env() })).code).toBe(0);
  });

  it('--yes downloads, verifies and atomically replaces the binary (base URL from the environment)', async () => {
    const bin = await installed();
    const r = await runFile(bin, ['update', '--yes'], {
      env: env({ RUNNER_RELEASE_BASE_URL: server.baseUrl }),
    });
    expect(r.stderr).toContain('downloading runner 9.9.9');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`→ 9.9.9 at ${bin}`);
    expect(await readFile(bin)).toEqual(fakeExecutable('9.9.9'));
    expect((await runFile(bin, [])).stdout).toBe('fake runner 9.9.9\n');
  });

  it('refuses to downgrade unless pinned and allowed', async () => {
    server.latest = '0.0.1';
    await makeRelease(join(dir, 'releases'), '0.0.1');
    try {
      const bin = await installed();
      const before = await sha(bin);
      const latest = await runFile(bin, ['update', '--yes', '--base-url', server.baseUrl], { env: env() });
      expect(latest.code).toBe(0);
      expect(latest.stdout).toContain('not downgrading');
      const pinned = await runFile(
        bin,
        ['update', '--yes', '--version', '0.0.1', '--base-url', server.baseUrl],
        { env: env() },
      );
      expect(pinned.code).toBe(1);
      expect(pinned.stderr).toContain('--allow-downgrade');
      expect(await sha(bin)).toBe(before);
    } finally {
      server.latest = '9.9.9';
    }
  });

  it('a global npm install: --check suggests the npm command, and update refuses naming the same one', async () => {
    const prefix = join(dir, 'npm-prefix');
    const bin = await installNpmBin(prefix);
    const check = await runFile(node24, [bin, 'update', '--check', '--base-url', server.baseUrl], {
      env: env(),
    });
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(
      /^runner 9\.9\.9 is available \(this is \d+\.\d+\.\d+\); install it with `npm install -g runner@9\.9\.9`\n$/,
    );
    const update = await runFile(node24, [bin, 'update', '--yes', '--base-url', server.baseUrl], {
      env: env(),
    });
    expect(update.code).toBe(1);
    expect(update.stderr).toContain('so update it with `npm install -g runner@9.9.9`');
  });

  it('run from a checkout (not an install), it never suggests `runner update`', async () => {
    const check = await runCli(['update', '--check', '--base-url', server.baseUrl], { env: env() });
    expect(check.stdout).toContain('install it with `git pull && npm ci` in the checkout it runs from');
    const update = await runCli(['update', '--yes', '--base-url', server.baseUrl], { env: env() });
    expect(update.code).toBe(1);
    expect(update.stderr).toContain('git pull && npm ci');
  });

  it('with no release location configured it says how to set one', async () => {
    const r = await runCli(['update', '--check'], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--base-url or set RUNNER_RELEASE_BASE_URL/);
  });
});
