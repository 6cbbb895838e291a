import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, ValidationReport } from '../../src/validate/index.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { FakeDedalus } from '../fakes/dedalus/index.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { TestPki } from '../support/pki.js';
import { Tinyproxy } from '../support/tinyproxy.js';
import { cliBundle, runCli } from './support/built-cli.js';
import { unusedPort, writeConfig } from './support/config-file.js';

/**
 * `runner validate` behind a real proxy (tinyproxy) in front of the fakes over HTTPS with a private
 * CA: each network check shows the route it took and what it trusted, and a failure says what to set.
 */

useNetworkTools();

let dir: string;
let pki: TestPki;
let fake: FakeActionsService;
let dedalus: FakeDedalus;
let proxy: Tinyproxy;
let authProxy: Tinyproxy;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-validate-net-'));
  pki = await TestPki.create(dir, 'corp-ca');
  const cert = await pki.issue('service', ['127.0.0.1', 'localhost']);
  fake = await startFakeActionsService({ tls: cert, holdMs: 200 });
  dedalus = await FakeDedalus.start({ tls: cert });
  proxy = await Tinyproxy.start({ dir });
  authProxy = await Tinyproxy.start({ dir, auth: { user: 'runner', password: 'val1date-pr0xy-pw' } });
  await cliBundle();
}, 120_000);

afterAll(async () => {
  await Promise.all([fake?.close(), dedalus?.close(), proxy?.stop(), authProxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function config(extra: Record<string, unknown> = {}): Promise<string> {
  n++;
  return writeConfig(join(dir, `config-${n}.toml`), {
    url: fake.configUrl(),
    name: 'net',
    token: 'env:FAKE_PAT',
    backend: 'dedalus',
    'health-port': await unusedPort(),
    'state-dir': join(dir, `state-${n}`),
    ...extra,
    dedalus: { 'base-url': dedalus.url, 'api-key': 'env:DEDALUS_KEY' },
  });
}

function run(file: string, env: NodeJS.ProcessEnv, json = true) {
  return runCli(['validate', '--config', file, ...(json ? ['--json'] : []), '--timeout', '5'], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      NO_COLOR: '1',
      FAKE_PAT: fake.pat,
      DEDALUS_KEY: dedalus.apiKey,
      ...env,
    },
  });
}

async function report(file: string, env: NodeJS.ProcessEnv = {}) {
  const r = await run(file, env);
  const parsed = JSON.parse(r.stdout) as ValidationReport;
  const check = (id: string): CheckResult | undefined => parsed.checks.find((c) => c.id === id);
  return { code: r.code, report: parsed, check };
}

const host = (url: string) => new URL(url).host;

describe('runner validate shows the route of each network check', () => {
  it('via the proxy, with the CA of ca-file: both GitHub and the Dedalus API, as the proxy log confirms', async () => {
    const file = await config({ 'ca-file': pki.caFile });
    const before = [await proxy.connects(host(fake.url)), await proxy.connects(host(dedalus.url))];
    const { code, check } = await report(file, { HTTPS_PROXY: proxy.url() });
    const route = `via proxy ${proxy.url()} (HTTPS_PROXY); CA: file ${pki.caFile} + Node's bundled roots`;
    expect(check('github')).toMatchObject({ status: 'ok', route });
    expect(check('dedalus-api')).toMatchObject({ status: 'ok', route });
    expect(code).toBe(0);
    expect(await proxy.connects(host(fake.url))).toBeGreaterThan(before[0] ?? 0);
    expect(await proxy.connects(host(dedalus.url))).toBeGreaterThan(before[1] ?? 0);

    const text = await run(file, { HTTPS_PROXY: proxy.url() }, false);
    expect(text.stdout).toContain(`  ↳ ${route}\n`);
  });

  it('direct when NO_PROXY names the host', async () => {
    const { check } = await report(await config({ 'ca-file': pki.caFile }), {
      HTTPS_PROXY: proxy.url(),
      NO_PROXY: '127.0.0.1',
    });
    expect(check('github')?.route).toMatch(/^direct \(NO_PROXY: 127\.0\.0\.1\); CA: file /);
  });

  it('use-system-ca trusts the CA the operating system store holds (SSL_CERT_FILE here)', async () => {
    const file = await config({ 'use-system-ca': true });
    const { check } = await report(file, {
      HTTPS_PROXY: proxy.url(),
      SSL_CERT_FILE: pki.caFile,
      SSL_CERT_DIR: join(dir, 'no-such-dir'),
    });
    expect(check('github')).toMatchObject({
      status: 'ok',
      route: `via proxy ${proxy.url()} (HTTPS_PROXY); CA: system + Node's bundled roots`,
    });
  });
});

describe('runner validate turns network failures into advice', () => {
  it('an unknown CA: names ca-file and use-system-ca, for GitHub and for the Dedalus API', async () => {
    const { code, check } = await report(await config(), { HTTPS_PROXY: proxy.url() });
    expect(code).toBe(1);
    for (const id of ['github', 'dedalus-api']) {
      expect(check(id)).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/^the certificate of 127\.0\.0\.1 is signed by an unknown authority/),
        hint: expect.stringContaining('set ca-file to a PEM bundle of that CA, or use-system-ca = true'),
      });
    }
  });

  it('a proxy that wants credentials: 407, and where to put them', async () => {
    const { check } = await report(await config({ 'ca-file': pki.caFile, proxy: authProxy.url() }));
    expect(check('github')).toMatchObject({
      status: 'fail',
      detail: `proxy ${authProxy.url()} answered 407 Proxy Authentication Required`,
      hint: expect.stringContaining('give them in the proxy URL, http://user:password@host:port (in proxy;'),
      route: expect.stringMatching(/^via proxy http:\/\/127\.0\.0\.1:\d+ \(proxy\); CA: file /),
    });
  });

  it('a proxy that refuses the connection', async () => {
    const { check } = await report(await config({ 'ca-file': pki.caFile, proxy: 'http://127.0.0.1:1' }));
    expect(check('github')).toMatchObject({
      status: 'fail',
      detail: 'cannot connect to the proxy http://127.0.0.1:1 (ECONNREFUSED)',
      hint: expect.stringContaining('check the proxy URL (from proxy)'),
    });
  });

  it('insecure-skip-tls-verify: works, and is a warning that never fails validate', async () => {
    // The loopback proxy is the daemon's alone here: runners would warn that they cannot reach it.
    const file = await config({ 'insecure-skip-tls-verify': true, 'runner-env': 'none' });
    const { code, check } = await report(file, { HTTPS_PROXY: proxy.url() });
    expect(code).toBe(0);
    expect(check('tls-verify')).toMatchObject({
      status: 'warn',
      scaleSet: 'net',
      detail: expect.stringContaining(
        'TLS certificate verification is off (insecure-skip-tls-verify = true)',
      ),
    });
    expect(check('github')).toMatchObject({
      status: 'ok',
      route: expect.stringContaining('TLS certificates NOT verified (insecure-skip-tls-verify = true)'),
    });
    const text = await run(file, { HTTPS_PROXY: proxy.url() }, false);
    expect(text.stdout).toContain('  ! TLS certificates verified: TLS certificate verification is off');
    expect(text.stdout).toContain('All checks passed (1 warning).');
  });
});

describe('runner validate says what the runners get', () => {
  it('the proxy and CA passed on; a proxy on this host’s loopback, which a machine cannot reach, is a warning', async () => {
    const loopback = await report(await config({ 'ca-file': pki.caFile }), { HTTPS_PROXY: proxy.url() });
    expect(loopback.code).toBe(0);
    expect(loopback.check('runner-network')).toMatchObject({
      status: 'warn',
      scaleSet: 'net',
      detail: expect.stringMatching(
        /^runners get HTTPS_PROXY=http:\/\/127\.0\.0\.1:\d+, this host's loopback: from a cloud machine it is not reachable\..*runner-env = "ca"/,
      ),
    });

    const elsewhere = await report(
      await config({ 'ca-file': pki.caFile, 'no-proxy': ['127.0.0.1'], 'runner-env': 'network' }),
      { HTTPS_PROXY: 'http://proxy.corp.example:3128' },
    );
    expect(elsewhere.check('runner-network')).toMatchObject({
      status: 'ok',
      detail: `runners get: proxy http://proxy.corp.example:3128 (HTTPS_PROXY); CA ca-file ${pki.caFile}: 1 certificate beyond Node's roots`,
    });
  });

  it('nothing to say without a proxy or a CA; runner-env = "none" is said', async () => {
    expect((await report(await config({ 'ca-file': '' }))).check('runner-network')).toBeUndefined();
    const none = await report(await config({ 'ca-file': pki.caFile, 'runner-env': 'none' }));
    expect(none.check('runner-network')).toMatchObject({
      status: 'ok',
      detail: 'runners get: nothing (runner-env = "none")',
    });
  });
});
