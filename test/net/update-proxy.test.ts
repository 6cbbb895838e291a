import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetworkConfig } from '../../src/config/index.js';
import { Networks } from '../../src/net/networks.js';
import { runUpdate } from '../../src/update/update.js';
import { cliBundle, runCli } from '../cmd/support/built-cli.js';
import { writeConfig } from '../cmd/support/config-file.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { Tinyproxy } from '../support/tinyproxy.js';
import { fakeExecutable, makeRelease } from '../update/fixtures.js';
import { ReleaseServer } from '../update/release-server.js';

/** `runner update` has no scale set: it takes the proxy of the config's top level, else the environment. */

useNetworkTools();

let dir: string;
let server: ReleaseServer;
let proxy: Tinyproxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-update-proxy-'));
  server = await ReleaseServer.start(join(dir, 'releases'));
  await makeRelease(join(dir, 'releases'), '9.9.9');
  server.latest = '9.9.9';
  proxy = await Tinyproxy.start({ dir });
  await cliBundle();
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.close(), proxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const gets = async () =>
  (await proxy.requests()).filter((r) => r.method === 'GET').map((r) => new URL(r.target).pathname);

describe('runner update behind a proxy', () => {
  it('downloads the metadata, the archive and checksums.txt through the proxy of the config file', async () => {
    const file = writeConfig(join(dir, 'config.toml'), { proxy: proxy.url(), url: 'https://github.com/o' });
    const networks = new Networks({});
    try {
      const network = networks.access(await loadNetworkConfig({ file, env: {} }));
      expect(network.describeRoute(server.baseUrl)).toBe(`via proxy ${proxy.url()} (proxy)`);
      const before = (await gets()).length;
      const bin = join(dir, 'bin', 'runner');
      await mkdir(join(dir, 'bin'), { recursive: true });
      await writeFile(bin, 'old', { mode: 0o755 });
      const outcome = await runUpdate({
        baseUrl: server.baseUrl,
        current: '1.0.0',
        allowDowngrade: false,
        timeoutMs: 10_000,
        check: false,
        sea: true,
        executable: bin,
        network,
        confirm: async () => true,
        say: () => {},
      });
      expect(outcome.result).toBe('replaced');
      expect(await readFile(bin)).toEqual(fakeExecutable('9.9.9'));
      const through = (await gets()).slice(before);
      // The latest/ metadata (and its redirect to the version), the archive and the checksums.
      expect(through).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\/releases\/latest\/download\//),
          expect.stringMatching(/\/v9\.9\.9\/runner-.*\.tar\.gz$/),
          '/releases/download/v9.9.9/checksums.txt',
        ]),
      );
      // Nothing reached the release server that the proxy did not see.
      expect(server.requests.length).toBe(through.length);
    } finally {
      await networks.close();
    }
  });

  it('the CLI: --check goes through HTTP_PROXY without a config file, and says what to fix when the proxy is down', async () => {
    const before = (await gets()).length;
    // A directory without config.toml: the environment alone decides.
    const cwd = join(dir, 'no-config');
    await mkdir(cwd, { recursive: true });
    const env = { PATH: process.env.PATH, HOME: dir, HTTP_PROXY: proxy.url() };
    const check = await runCli(['update', '--check', '--base-url', server.baseUrl], { env, cwd });
    expect(check.stderr).toBe('');
    expect(check.stdout).toContain('runner 9.9.9 is available');
    // The metadata, and the version it redirects to: both through the proxy.
    expect((await gets()).slice(before)).toEqual([
      '/releases/latest/download/latest.json',
      '/releases/download/v9.9.9/latest.json',
    ]);

    const down = await runCli(['update', '--check', '--base-url', server.baseUrl], {
      env: { ...env, HTTP_PROXY: 'http://127.0.0.1:1' },
      cwd,
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot connect to the proxy http://127.0.0.1:1 (ECONNREFUSED)');
    expect(down.stderr).toContain('check the proxy URL (from HTTP_PROXY)');

    // --config: its top-level proxy beats the (dead) HTTP_PROXY.
    const file = writeConfig(join(dir, 'update.toml'), { proxy: proxy.url() });
    const viaConfig = await runCli(['update', '--check', '--config', file, '--base-url', server.baseUrl], {
      env: { ...env, HTTP_PROXY: 'http://127.0.0.1:1' },
      cwd,
    });
    expect(viaConfig.stderr).toBe('');
    expect(viaConfig.stdout).toContain('runner 9.9.9 is available');
  });
});
