import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { ensureCurlImage, testDocker } from '../setup/docker.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { HttpsRecorder } from '../support/https-recorder.js';
import { TestPki } from '../support/pki.js';
import { Tinyproxy } from '../support/tinyproxy.js';
import { SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';

/**
 * The runners' side of a network behind a proxy with a private CA, on a real Docker engine: a job in
 * a runner container calls an HTTPS service (certificate from a CA made by openssl for this test)
 * with curl, through a real forward proxy that wants credentials (tinyproxy). curl gets nothing but
 * what runner gave the container: the proxy from https_proxy, the CA from CURL_CA_BUNDLE. The proxy's
 * own log and the service's connection count say the call went through the proxy.
 */

const setup = useE2e();
useNetworkTools(['curl']);

const USER = 'jobs';
const PASSWORD = 'j0b-pr0xy-passw0rd';

let dir: string;
let pki: TestPki;
let service: HttpsRecorder;
let proxy: Tinyproxy;
let image: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-e2e-runners-net-'));
  pki = await TestPki.create(dir, 'corp-ca');
  service = await HttpsRecorder.start(await pki.issue('service', ['127.0.0.1']));
  proxy = await Tinyproxy.start({ dir, auth: { user: USER, password: PASSWORD } });
  image = await ensureCurlImage();
}, 120_000);

afterAll(async () => {
  await Promise.all([service?.close(), proxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/**
 * The daemon's own calls to the fake Actions service (plain http on loopback) go direct by no-proxy;
 * to curl, `127.0.0.1:<port>` is a name that matches nothing, so the job's call to the HTTPS service
 * on another port takes the proxy: each tool reads NO_PROXY its own way.
 */
function networkToml(fakeUrl: string, runnerEnv?: string): string {
  return [
    'proxy = "env:CORP_PROXY"',
    `no-proxy = ["${new URL(fakeUrl).host}"]`,
    `ca-file = "${pki.caFile}"`,
    ...(runnerEnv ? [`runner-env = "${runnerEnv}"`] : []),
  ].join('\n');
}

const completed = (env: Awaited<ReturnType<typeof setup>>) =>
  env.fake.waitFor(() => env.fake.jobs()[0]?.state === 'completed' && env.fake.jobs()[0], {
    what: 'the job completed',
    timeout: 45_000,
  });

describe('runner containers behind a proxy with a private CA', () => {
  it('a job calls an HTTPS service through the proxy, trusting the CA the runner was given', async () => {
    const env = await setup({ image, gate: true, maxRunners: 1 });
    await rewriteTop(env.configFile, networkToml(env.fake.configUrl()));
    const d = await env.startDaemon({ env: { CORP_PROXY: proxy.url(true) } });
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    const connectsBefore = await proxy.connects(service.host);
    const connectionsBefore = service.connections;

    // curl is given no option: the proxy, its credentials and the CA come from the environment.
    const report = [
      'set -e',
      `{ env; echo @@@; ls -ln /etc/runner-ca; echo @@@; cat "$NODE_EXTRA_CA_CERTS"; } | curl -sS --fail --data-binary @- ${service.url}/report`,
    ].join('\n');
    env.fake.queueJob({ scaleSet: SCALE_SET, script: `${report}\n${env.gatedScript()}` });
    const outcome = await pollUntil(
      () =>
        service.requests.find((r) => r.path === '/report') ??
        (env.fake.jobs()[0]?.state === 'completed' ? 'the job ended without reporting' : undefined),
      { what: 'the job’s report at the HTTPS service', timeout: 45_000 },
    );
    expect(outcome).toMatchObject({ path: '/report' });
    const received = outcome as { body: string };

    // While the job runs: the credentials are in the container's environment (where the job needs
    // them, and `docker inspect` shows them, as it shows the JIT config), never in a label or argv.
    const [container] = await env.containers({ running: true });
    const info = await testDocker.getContainer(container?.Id ?? '').inspect();
    const proxyWithCredentials = proxy.url(true);
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        `HTTPS_PROXY=${proxyWithCredentials}`,
        `https_proxy=${proxyWithCredentials}`,
        `HTTP_PROXY=${proxyWithCredentials}`,
        `http_proxy=${proxyWithCredentials}`,
      ]),
    );
    const visible = JSON.stringify([info.Config.Labels, info.Config.Cmd, info.Config.Entrypoint, info.Args]);
    expect(visible).not.toContain(PASSWORD);
    await env.openGate();
    expect(await completed(env)).toMatchObject({ result: 'succeeded' });

    const [vars = '', listing = '', caPem = ''] = received.body.split('@@@\n');
    const jobEnv = Object.fromEntries(
      vars
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const noProxy = new URL(env.fake.configUrl()).host;
    expect(jobEnv).toMatchObject({
      HTTPS_PROXY: proxyWithCredentials,
      https_proxy: proxyWithCredentials,
      NO_PROXY: noProxy,
      no_proxy: noProxy,
      NODE_EXTRA_CA_CERTS: '/etc/runner-ca/ca.pem',
      SSL_CERT_FILE: '/etc/runner-ca/bundle.pem',
      GIT_SSL_CAINFO: '/etc/runner-ca/bundle.pem',
      CURL_CA_BUNDLE: '/etc/runner-ca/bundle.pem',
      REQUESTS_CA_BUNDLE: '/etc/runner-ca/bundle.pem',
    });
    // Both files root's and read-only; ca.pem is the CA of ca-file, as written.
    expect(listing).toMatch(/^-r--r--r-- +1 0 +0 .* bundle\.pem$/m);
    expect(listing).toMatch(/^-r--r--r-- +1 0 +0 .* ca\.pem$/m);
    expect(caPem.trim()).toBe(pki.caPem.trim());

    // The one TLS connection the service accepted is a tunnel the proxy opened, with the credentials.
    expect(service.connections - connectionsBefore).toBe(1);
    expect((await proxy.connects(service.host)) - connectsBefore).toBe(1);
    expect(d.logs('network')[0]).toMatchObject({
      runners: `proxy ${proxy.url()} (proxy, with credentials); CA ca-file ${pki.caFile}: 1 certificate beyond Node's roots`,
    });
    await stopGracefully(d);
    expect(d.text).not.toContain(PASSWORD);
    expect(d.text).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    await env.expectNothingLeft({ sessions: true });
  });

  it('runner-env = "none": the container gets neither the proxy nor the CA, and the same call fails', async () => {
    const env = await setup({ image, maxRunners: 1 });
    await rewriteTop(env.configFile, networkToml(env.fake.configUrl(), 'none'));
    const d = await env.startDaemon({ env: { CORP_PROXY: proxy.url(true) } });
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    const connectsBefore = await proxy.connects(service.host);
    const nothing = [
      // No variable of ours, no CA directory…
      'env | grep -E "^(https?_proxy|HTTPS?_PROXY|NO_PROXY|no_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|GIT_SSL_CAINFO|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE)=" && exit 10',
      'test ! -e /etc/runner-ca || exit 11',
      // …so curl goes direct, and cannot verify the service's certificate (exit 60 or 77: no CA).
      `curl -sS ${service.url}/none; rc=$?`,
      'test "$rc" = 60 || test "$rc" = 77 || exit 12',
    ].join('\n');
    env.fake.queueJob({ scaleSet: SCALE_SET, script: nothing });
    expect(await completed(env)).toMatchObject({ result: 'succeeded' });
    expect(service.requests.some((r) => r.path === '/none')).toBe(false);
    expect(await proxy.connects(service.host)).toBe(connectsBefore);
    expect(d.logs('network')[0]).toMatchObject({ runners: 'nothing (runner-env = "none")' });
    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });
});

/** Puts `toml` at the top of the config file, where top-level keys belong. */
async function rewriteTop(file: string, toml: string): Promise<void> {
  await writeFile(file, `${toml}\n${await readFile(file, 'utf8')}`);
}
