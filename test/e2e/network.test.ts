import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSECURE_TLS_WARNING } from '../../src/net/tls.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { cliBundle, runCli } from '../cmd/support/built-cli.js';
import { unusedPort } from '../cmd/support/config-file.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { FakeDedalus } from '../fakes/dedalus/index.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { TestPki } from '../support/pki.js';
import { Tinyproxy } from '../support/tinyproxy.js';
import { DaemonProcess } from './support/daemon-process.js';
import { stopGracefully } from './support/e2e-env.js';

/**
 * `runner run` behind a forward proxy that wants credentials, in front of GitHub (the fake Actions
 * service) and the Dedalus API (its fake), both over HTTPS with a private CA: every connection either
 * fake accepted is one the proxy's own log shows it tunnelled, and at debug level no form of the proxy
 * credentials reaches the logs.
 */

useNetworkTools();

const USER = 'daemon';
const PASSWORD = 'e2e-pr0xy-passw0rd';

let dir: string;
let pki: TestPki;
let fake: FakeActionsService;
let dedalus: FakeDedalus;
let proxy: Tinyproxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-e2e-net-'));
  pki = await TestPki.create(dir, 'corp-ca');
  const cert = await pki.issue('service', ['127.0.0.1']);
  fake = await startFakeActionsService({ tls: cert, holdMs: 500 });
  dedalus = await FakeDedalus.start({ tls: cert });
  proxy = await Tinyproxy.start({ dir, auth: { user: USER, password: PASSWORD } });
  await cliBundle();
}, 120_000);

afterAll(async () => {
  await Promise.all([fake?.close(), dedalus?.close(), proxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const host = (url: string) => new URL(url).host;

describe('the daemon behind an authenticating proxy, with a private CA', () => {
  it('sends every GitHub and Dedalus request through the proxy, and never logs its credentials', async () => {
    const healthPort = await unusedPort();
    const file = join(dir, 'config.toml');
    await writeFile(
      file,
      [
        `url = "${fake.configUrl()}"`,
        'token = "env:FAKE_PAT"',
        'backend = "dedalus"',
        // The credentials live in the environment, not in the file.
        'proxy = "env:CORP_PROXY"',
        `ca-file = "${pki.caFile}"`,
        `state-dir = "${join(dir, 'state')}"`,
        `health-port = ${healthPort}`,
        'log-format = "json"',
        'log-level = "debug"',
        '[dedalus]',
        `base-url = "${dedalus.url}"`,
        'api-key = "env:DEDALUS_KEY"',
        '[[scaleset]]',
        'name = "strict"',
        '[[scaleset]]',
        'name = "lax"',
        'insecure-skip-tls-verify = true',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      FAKE_PAT: fake.pat,
      DEDALUS_KEY: dedalus.apiKey,
      CORP_PROXY: proxy.url(true),
      // Overridden by `proxy`: were it used, nothing would connect.
      HTTPS_PROXY: 'http://127.0.0.1:1',
    };
    const d = await DaemonProcess.start(file, env);
    try {
      await pollUntil(
        async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok,
        { timeout: 30_000, what: 'both scale sets listening' },
      );
      await fake.waitFor(() => (fake.requestCounts().poll ?? 0) >= 2, { what: 'long polls of both sets' });

      const status = await runCli(['status', '--config', file], { env: { ...env, NO_COLOR: '1' } });
      expect(status.code).toBe(0);
      const lax = status.stdout.slice(status.stdout.indexOf('lax'));
      const strict = status.stdout.slice(status.stdout.indexOf('strict'), status.stdout.indexOf('lax'));
      expect(lax).toContain(`warning  ${INSECURE_TLS_WARNING}`);
      expect(strict).not.toContain('warning');
    } finally {
      await stopGracefully(d).finally(() => d.kill());
    }

    // Every TCP connection the fakes accepted was a tunnel the proxy opened.
    expect(fake.connections).toBeGreaterThan(0);
    expect(await proxy.connects(host(fake.url))).toBe(fake.connections);
    expect(dedalus.connections).toBeGreaterThan(0);
    expect(await proxy.connects(host(dedalus.url))).toBe(dedalus.connections);

    const route = `via proxy ${proxy.url()} (proxy, with credentials)`;
    expect(d.logs('network').map((l) => [l.scaleSet, l.github])).toEqual(
      expect.arrayContaining([
        ['strict', route],
        ['lax', route],
      ]),
    );
    expect(
      d.lines.filter((l) => l.json?.level === 'warn' && l.json.msg === INSECURE_TLS_WARNING),
    ).toHaveLength(1);
    expect(d.lines.some((l) => l.json?.level === 'debug')).toBe(true); // debug lines were written
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    for (const secret of [PASSWORD, basic, proxy.url(true), encodeURIComponent(PASSWORD)]) {
      expect(d.text).not.toContain(secret);
    }
  });

  it('without the credentials, start-up is retried and status and the log say what to set', async () => {
    const healthPort = await unusedPort();
    const file = join(dir, 'no-credentials.toml');
    await writeFile(
      file,
      [
        `url = "${fake.configUrl()}"`,
        'name = "needs-credentials"',
        'token = "env:FAKE_PAT"',
        'backend = "dedalus"',
        `proxy = "${proxy.url()}"`,
        `ca-file = "${pki.caFile}"`,
        `state-dir = "${join(dir, 'state-2')}"`,
        `health-port = ${healthPort}`,
        'log-format = "json"',
        '[dedalus]',
        `base-url = "${dedalus.url}"`,
        'api-key = "env:DEDALUS_KEY"',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const d = await DaemonProcess.start(file, {
      PATH: process.env.PATH,
      HOME: dir,
      FAKE_PAT: fake.pat,
      DEDALUS_KEY: dedalus.apiKey,
    });
    try {
      const reason = await pollUntil(
        async () => {
          const res = await fetch(`http://127.0.0.1:${healthPort}/api/status`).catch(() => undefined);
          const body = res?.ok ? ((await res.json()) as { scaleSets: { reason?: string }[] }) : undefined;
          return body?.scaleSets[0]?.reason?.includes('407') && body.scaleSets[0].reason;
        },
        { timeout: 30_000, what: 'a start-up failure in status' },
      );
      expect(reason).toBe(
        `no successful poll yet (starting); last error: registering the scale set failed: proxy ${proxy.url()} answered 407 Proxy Authentication Required (the proxy wants credentials: give them in the proxy URL, http://user:password@host:port (in proxy; proxy = "env:VAR" keeps them out of the config file))`,
      );
      const logged = await d.waitForLog((l) => l.json?.msg === 'registering the scale set failed; retrying', {
        what: 'the start-up failure',
      });
      expect(logged.json?.hint).toContain('the proxy wants credentials');
    } finally {
      await stopGracefully(d).finally(() => d.kill());
    }
  });
});
