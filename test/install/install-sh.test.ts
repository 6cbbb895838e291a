import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeOnPath, repoRoot, runFile, seaBinary } from '../cmd/support/built-cli.js';
import { fakeExecutable, makeRelease, tamperChecksum } from '../update/fixtures.js';
import { ReleaseServer } from '../update/release-server.js';

const installSh = join(repoRoot, 'install.sh');

/** Everything install.sh may call, as busybox applets: a PATH on which node does not exist. */
const TOOLS = [
  'uname',
  'mktemp',
  'rm',
  'sed',
  'head',
  'cut',
  'awk',
  'tar',
  'gzip',
  'mkdir',
  'cp',
  'chmod',
  'mv',
  'sha256sum',
  'grep',
];

const DOWNLOADERS = {
  curl: ['curl', '/usr/bin/curl'],
  'busybox-wget': ['wget', '/bin/busybox'],
  'gnu-wget': ['wget', '/usr/bin/wget'],
} as const;
type Downloader = keyof typeof DOWNLOADERS;

describe('install.sh against a local release server', () => {
  let dir: string;
  let server: ReleaseServer;
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-install-'));
    server = await ReleaseServer.start(join(dir, 'releases'));
    await makeRelease(join(dir, 'releases'), '2.0.0');
    await makeRelease(join(dir, 'releases'), '1.0.0');
    await tamperChecksum(await makeRelease(join(dir, 'releases'), '6.6.6'));
    server.latest = '2.0.0';
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A bin dir with `sh` and one downloader, the rest from busybox; node is nowhere on it. */
  async function toolbox(shell: string, downloader: Downloader): Promise<string> {
    const bin = join(dir, `tools${n++}`);
    await mkdir(bin);
    await symlink(shell, join(bin, 'sh'));
    for (const tool of TOOLS) await symlink('/bin/busybox', join(bin, tool));
    const [name, target] = DOWNLOADERS[downloader];
    await symlink(target, join(bin, name));
    return bin;
  }

  async function install(bin: string, extra: NodeJS.ProcessEnv) {
    const home = join(dir, `home${n++}`);
    await mkdir(home);
    const env = { PATH: bin, HOME: home, RUNNER_RELEASE_BASE_URL: server.baseUrl, ...extra };
    expect(await nodeOnPath(env)).toBe(false);
    const r = await runFile(join(bin, 'sh'), [installSh], { env, timeoutMs: 60_000 });
    return { ...r, home, env };
  }

  it('curl (under dash): installs the latest release to ~/.local/bin and names that dir in the PATH hint', async () => {
    const r = await install(await toolbox('/usr/bin/dash', 'curl'), {});
    expect(r.stderr).toContain(`installed runner 2.0.0 to ${r.home}/.local/bin/runner`);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${r.home}/.local/bin is not on your PATH`);
    expect(r.stderr).toContain(`export PATH="${r.home}/.local/bin:$PATH"`);
    const installed = join(r.home, '.local/bin/runner');
    expect(await readFile(installed)).toEqual(fakeExecutable('2.0.0'));
    expect((await stat(installed)).mode & 0o777).toBe(0o755);
    expect((await runFile(installed, [], { env: r.env })).stdout).toBe('fake runner 2.0.0\n');
  });

  it('busybox wget (under busybox sh): RUNNER_VERSION pins a release; INSTALL_DIR on PATH → no hint', async () => {
    const bin = await toolbox('/bin/busybox', 'busybox-wget');
    const target = join(dir, 'opt bin');
    const r = await install(bin, { RUNNER_VERSION: 'v1.0.0', INSTALL_DIR: target, PATH: `${bin}:${target}` });
    expect(r.stderr).toContain(`installed runner 1.0.0 to ${target}/runner`);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('is not on your PATH');
    expect(await readFile(join(target, 'runner'))).toEqual(fakeExecutable('1.0.0'));
  });

  it('GNU wget: installs the latest release', async () => {
    const r = await install(await toolbox('/usr/bin/dash', 'gnu-wget'), {});
    expect(r.code).toBe(0);
    expect(await readFile(join(r.home, '.local/bin/runner'))).toEqual(fakeExecutable('2.0.0'));
  });

  it('a tampered checksum fails and installs nothing; an existing runner is left alone', async () => {
    const target = join(dir, 'keep');
    await mkdir(target);
    await writeFile(join(target, 'runner'), 'previous', { mode: 0o755 });
    for (const downloader of ['curl', 'busybox-wget', 'gnu-wget'] as const) {
      const r = await install(await toolbox('/usr/bin/dash', downloader), {
        RUNNER_VERSION: '6.6.6',
        INSTALL_DIR: target,
      });
      expect(r.code, downloader).toBe(1);
      expect(r.stderr, downloader).toMatch(
        /install\.sh: checksum mismatch for runner-.*\.tar\.gz .*nothing was installed/,
      );
      expect(await readFile(join(target, 'runner'), 'utf8')).toBe('previous');
    }
  });

  it('a release that does not exist fails with the URL it tried', async () => {
    const r = await install(await toolbox('/usr/bin/dash', 'curl'), {
      RUNNER_VERSION: '7.7.7',
      INSTALL_DIR: join(dir, 'none'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot download http:\/\/127\.0\.0\.1:\d+\/releases\/download\/v7\.7\.7\/runner-.*\.tar\.gz/,
    );
    expect(existsSync(join(dir, 'none', 'runner'))).toBe(false);
  });

  it.each([
    ['/usr/bin/dash', 'http://example.com/runner/releases'],
    ['/bin/busybox', 'http://127.0.0.1.example.com/releases'],
    ['/usr/bin/dash', 'ftp://example.com/releases'],
  ])('%s: %s is refused by the rule its message states (https, or http to loopback)', async (shell, url) => {
    const r = await install(await toolbox(shell, 'curl'), {
      RUNNER_RELEASE_BASE_URL: url,
      INSTALL_DIR: join(dir, 'none'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `install.sh: RUNNER_RELEASE_BASE_URL must start with https:// (plain http:// only to 127.0.0.1, localhost or [::1]), got ${url}\n`,
    );
    expect(existsSync(join(dir, 'none', 'runner'))).toBe(false);
  });

  it('without a configured release location it says which variable to set', async () => {
    const bin = await toolbox('/usr/bin/dash', 'curl');
    const r = await runFile(join(bin, 'sh'), [installSh], { env: { PATH: bin, HOME: dir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('set RUNNER_RELEASE_BASE_URL');
  });

  it('installs the real single binary, which runs `version` without node on PATH', async () => {
    const sea = await seaBinary();
    const version = (
      await runFile(sea, ['version', '--short'], { env: { PATH: '/nonexistent' } })
    ).stdout.trim();
    await makeRelease(join(dir, 'releases'), version, await readFile(sea));
    const r = await install(await toolbox('/usr/bin/dash', 'curl'), { RUNNER_VERSION: version });
    expect(r.code).toBe(0);
    const installed = join(r.home, '.local/bin/runner');
    const v = await runFile(installed, ['version', '--json'], { env: r.env });
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ version, distribution: 'binary', node: '24.21.0' });
    const help = await runFile(installed, ['--help'], { env: r.env });
    expect(help.stdout).toContain('Usage: runner');
  }, 180_000);
});
