import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDedalusClient } from '../../backends/dedalus/api/index.js';
import { dedalusChecks } from '../../backends/dedalus/validate.js';
import { parseConfigText } from '../../src/config/index.js';
import type { ScaleSetConfig } from '../../src/config/types.js';
import { ActionsClient, gitHubApiUrl, parseConfigUrl } from '../../src/github/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { networkAdvice } from '../../src/net/advice.js';
import { Networks } from '../../src/net/networks.js';
import type { NetworkAccess } from '../../src/net/types.js';
import { Secret } from '../../src/secret.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { FakeDedalus } from '../fakes/dedalus/index.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { TestPki } from '../support/pki.js';
import { Tinyproxy } from '../support/tinyproxy.js';

/**
 * The daemon's clients behind a real forward proxy (Debian's tinyproxy) in front of the fakes served
 * over HTTPS with a private CA made by openssl: what goes through the proxy is read from the proxy's
 * own access log, and compared with the connections the fakes accepted.
 */

useNetworkTools();

const PROXY_USER = 'runner';
const PROXY_PASSWORD = 'pr0xy-s3cret-passw0rd';

let dir: string;
let pki: TestPki;
let otherPki: TestPki;
let fake: FakeActionsService;
let dedalus: FakeDedalus;
let proxy: Tinyproxy;
let authProxy: Tinyproxy;
let strictProxy: Tinyproxy;
const networks = new Networks();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-net-'));
  pki = await TestPki.create(dir, 'corp-ca');
  otherPki = await TestPki.create(dir, 'other-ca');
  const cert = await pki.issue('service', ['127.0.0.1', 'localhost']);
  fake = await startFakeActionsService({ tls: cert, holdMs: 200 });
  dedalus = await FakeDedalus.start({ tls: cert });
  proxy = await Tinyproxy.start({ dir });
  authProxy = await Tinyproxy.start({ dir, auth: { user: PROXY_USER, password: PROXY_PASSWORD } });
  strictProxy = await Tinyproxy.start({ dir, connectPorts: [443] });
}, 60_000);

afterAll(async () => {
  await networks.close();
  await Promise.all([fake?.close(), dedalus?.close(), proxy?.stop(), authProxy?.stop(), strictProxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const hostOf = (url: string) => new URL(url).host;

/** The scale set's network as `runner run` resolves it, from config keys and the environment. */
async function networkFor(toml: string, env: NodeJS.ProcessEnv = {}): Promise<ScaleSetConfig> {
  const config = await parseConfigText(
    `url = "${fake.configUrl()}"\nname = "net"\ntoken = "env:PAT"\n${toml}`,
    join(dir, 'config.toml'),
    { PAT: fake.pat, ...env },
  );
  const set = config.scaleSets[0];
  if (!set) throw new Error('no scale set');
  return set;
}

function clientOn(access: NetworkAccess, logger?: Logger): ActionsClient {
  return new ActionsClient({
    configUrl: fake.configUrl(),
    auth: { kind: 'pat', token: new Secret(fake.pat) },
    dispatcher: access.dispatcher,
    retryMax: 2,
    retryWaitMin: 10,
    retryWaitMax: 20,
    ...(logger ? { logger } : {}),
  });
}

function advise(
  err: unknown,
  access: NetworkAccess,
  url = gitHubApiUrl(parseConfigUrl(fake.configUrl()), '/'),
) {
  return networkAdvice(err, {
    url,
    route: access.route(url),
    urlKey: 'url',
    caFile: access.config.caFile?.path,
    useSystemCa: access.config.useSystemCa,
  });
}

function logSink(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ level: 'trace', destination: sink }), text: () => lines.join('') };
}

describe('GitHub through a forward proxy, over TLS with a private CA', () => {
  it('every request of a whole session goes through the proxy (HTTPS_PROXY), trusting ca-file', async () => {
    const set = await networkFor(`ca-file = "${pki.caFile}"\n`, { HTTPS_PROXY: proxy.url() });
    const access = networks.access(set.network);
    expect(access.describeRoute(fake.url)).toBe(`via proxy ${proxy.url()} (HTTPS_PROXY)`);
    expect(access.trust).toContain(`CA: file ${pki.caFile} + Node's bundled roots`);
    const before = { connections: fake.connections, connects: await proxy.connects(hostOf(fake.url)) };
    const requestsBefore = fake.requests.length;

    const client = clientOn(access);
    const group = await client.getRunnerGroupByName('default');
    const ss = await client.createRunnerScaleSet({ name: 'proxied', runnerGroupId: group.id });
    const session = await client.createMessageSession(ss.id ?? 0, 'host');
    expect(await session.getMessage(0, 1)).toBeNull(); // the long poll, held 200 ms, then 202
    const jit = await client.generateJitRunnerConfig({ name: 'proxied-1', workFolder: '' }, ss.id ?? 0);
    await client.removeRunner(jit.runner.id);
    await session.close();

    const requests = fake.requests.length - requestsBefore;
    const connections = fake.connections - before.connections;
    const connects = (await proxy.connects(hostOf(fake.url))) - before.connects;
    // Registration token, runner-registration, group, create, session, poll, JIT, remove, delete session.
    expect(requests).toBeGreaterThanOrEqual(9);
    expect(connections).toBeGreaterThan(0);
    // Each connection the fake accepted was a tunnel the proxy opened: no request went around it.
    expect(connects).toBe(connections);
    expect((await proxy.requests()).every((r) => r.method === 'CONNECT')).toBe(true);
  });

  it('NO_PROXY keeps a host off the proxy: the fake is reached, the proxy sees nothing', async () => {
    const set = await networkFor(`ca-file = "${pki.caFile}"\n`, {
      HTTPS_PROXY: proxy.url(),
      NO_PROXY: 'localhost,127.0.0.1',
    });
    const access = networks.access(set.network);
    expect(access.describeRoute(fake.url)).toBe('direct (NO_PROXY: 127.0.0.1)');
    const connects = await proxy.connects(hostOf(fake.url));
    const connections = fake.connections;
    await clientOn(access).getRunnerGroupByName('default');
    expect(fake.connections).toBeGreaterThan(connections);
    expect(await proxy.connects(hostOf(fake.url))).toBe(connects);
  });

  it('a proxy that wants Basic auth: credentials in the URL work, and never reach a log line at trace level', async () => {
    const { logger, text } = logSink();
    const set = await networkFor(`ca-file = "${pki.caFile}"\nproxy = "env:CORP_PROXY"\n`, {
      CORP_PROXY: authProxy.url(true),
    });
    const access = networks.access(set.network);
    expect(access.describeRoute(fake.url)).toBe(`via proxy ${authProxy.url()} (proxy, with credentials)`);
    const connects = await authProxy.connects(hostOf(fake.url));
    const client = clientOn(access, logger);
    await client.getRunnerGroupByName('default');
    expect(await authProxy.connects(hostOf(fake.url))).toBeGreaterThan(connects);

    // What a careless line would print: the settings, the access and an error about the proxy.
    const refused = await clientOn(
      networks.access(
        (await networkFor(`ca-file = "${pki.caFile}"\nproxy = "${authProxy.url()}"\n`)).network,
      ),
    )
      .getRunnerGroupByName('default')
      .catch((e: unknown) => e);
    logger.debug({ network: set.network, access, route: access.route(fake.url) }, 'network settings');
    logger.error({ err: refused, url: authProxy.url(true) }, 'proxy refused');
    const output = text();
    expect(output).toContain('network settings');
    const basic = Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64');
    for (const secret of [PROXY_PASSWORD, basic, authProxy.url(true)]) expect(output).not.toContain(secret);
  });

  it('without credentials the proxy answers 407: not retried, and the advice says to put them in the proxy URL', async () => {
    const set = await networkFor(`ca-file = "${pki.caFile}"\nproxy = "${authProxy.url()}"\n`);
    const access = networks.access(set.network);
    const connects = await authProxy.connects(hostOf(fake.url));
    const err = await clientOn(access)
      .getRunnerGroupByName('default')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOKEN_REFRESH' });
    // One CONNECT: a refused credential is not worth the retry budget (retryMax is 2 here).
    expect((await authProxy.connects(hostOf(fake.url))) - connects).toBe(1);
    const advice = advise(err, access);
    expect(advice?.detail).toBe(`proxy ${authProxy.url()} answered 407 Proxy Authentication Required`);
    expect(advice?.hint).toMatch(
      /the proxy wants credentials: give them in the proxy URL, http:\/\/user:password@host:port \(in proxy;/,
    );
  });

  it('with a wrong password the advice says the proxy rejected the ones given', async () => {
    const wrong = authProxy.url().replace('http://', `http://${PROXY_USER}:not-the-password@`);
    const access = networks.access(
      (await networkFor(`ca-file = "${pki.caFile}"\nproxy = "${wrong}"\n`)).network,
    );
    const err = await clientOn(access)
      .getRunnerGroupByName('default')
      .catch((e: unknown) => e);
    const advice = advise(err, access);
    expect(advice?.detail).toBe(`proxy ${authProxy.url()} answered 401 Unauthorized`); // tinyproxy's way
    expect(advice?.hint).toMatch(/^the proxy rejected the user and password in the proxy URL \(from proxy\)/);
  });
});

describe('a proxy that refuses the CONNECT', () => {
  it('is not retried, and the advice says to have the host allowed or to no-proxy it', async () => {
    const access = networks.access(
      (await networkFor(`ca-file = "${pki.caFile}"\n`, { HTTPS_PROXY: strictProxy.url() })).network,
    );
    const err = await clientOn(access)
      .getRunnerGroupByName('default')
      .catch((e: unknown) => e);
    expect(await strictProxy.connects(hostOf(fake.url))).toBe(1);
    const where = hostOf(fake.url);
    expect(advise(err, access)).toEqual({
      detail: `proxy ${strictProxy.url()} refused to connect to ${where} (it answered 403 to CONNECT)`,
      hint: `the proxy does not let this host or port through: ask for CONNECT to ${where} to be allowed, or add 127.0.0.1 to no-proxy (or NO_PROXY) if it is reachable directly`,
    });
  });
});

describe('TLS trust failures say which key to set', () => {
  it('no CA for the private one: unknown authority, advice names ca-file and use-system-ca; not retried', async () => {
    const access = networks.access((await networkFor('', { HTTPS_PROXY: proxy.url() })).network);
    const connects = await proxy.connects(hostOf(fake.url));
    const err = await clientOn(access)
      .getRunnerGroupByName('default')
      .catch((e: unknown) => e);
    expect((await proxy.connects(hostOf(fake.url))) - connects).toBe(1);
    const advice = advise(err, access);
    expect(advice?.detail).toMatch(/^the certificate of 127\.0\.0\.1 is signed by an unknown authority \(/);
    expect(advice?.hint).toContain('set ca-file to a PEM bundle of that CA, or use-system-ca = true');
    expect(advice?.hint).toContain(`A proxy that inspects TLS (${proxy.url()}) shows its own CA`);
  });

  it('a ca-file of another CA: the advice says the bundle lacks the issuer', async () => {
    const access = networks.access((await networkFor(`ca-file = "${otherPki.caFile}"\n`)).network);
    const err = await clientOn(access)
      .getRunnerGroupByName('default')
      .catch((e: unknown) => e);
    expect(advise(err, access)?.hint).toMatch(
      new RegExp(
        `^ca-file ${otherPki.caFile} does not hold the CA that signed 127\\.0\\.0\\.1's certificate`,
      ),
    );
  });

  it('a certificate for another name: hostname mismatch, advice names url', async () => {
    const other = await startFakeActionsService({
      tls: await pki.issue('ghes', ['ghes.example']),
      holdMs: 200,
    });
    try {
      const config = await parseConfigText(
        `url = "${other.configUrl()}"\nname = "n"\ntoken = "env:PAT"\nca-file = "${pki.caFile}"\n`,
        join(dir, 'config.toml'),
        { PAT: other.pat },
      );
      const access = networks.access(config.scaleSets[0]!.network);
      const client = new ActionsClient({
        configUrl: other.configUrl(),
        auth: { kind: 'pat', token: new Secret(other.pat) },
        dispatcher: access.dispatcher,
        retryMax: 0,
      });
      const err = await client.getRunnerGroupByName('default').catch((e: unknown) => e);
      const advice = advise(err, access, gitHubApiUrl(parseConfigUrl(other.configUrl()), '/'));
      expect(advice?.detail).toMatch(
        /^the certificate of 127\.0\.0\.1:\d+ is not valid for the name 127\.0\.0\.1: /,
      );
      expect(advice?.hint).toBe(
        'use in url the host name the certificate is issued for, or have the certificate reissued with 127.0.0.1 in its subjectAltName',
      );
    } finally {
      await other.close();
    }
  });

  it('insecure-skip-tls-verify connects without any CA', async () => {
    const access = networks.access((await networkFor('insecure-skip-tls-verify = true\n')).network);
    expect(access.trust).toBe('TLS certificates NOT verified (insecure-skip-tls-verify = true)');
    await expect(clientOn(access).getRunnerGroupByName('default')).resolves.toMatchObject({ id: 1 });
  });
});

describe('the Dedalus API client behind the same proxy and CA', () => {
  it('goes through the proxy and trusts ca-file; without the CA the validate check advises ca-file', async () => {
    const set = await networkFor(`ca-file = "${pki.caFile}"\n`, { HTTPS_PROXY: proxy.url() });
    const access = networks.access(set.network);
    const connections = dedalus.connections;
    const connects = await proxy.connects(hostOf(dedalus.url));
    const client = createDedalusClient({
      baseUrl: dedalus.url,
      apiKey: new Secret(dedalus.apiKey),
      dispatcher: access.dispatcher,
    });
    await client.machines.list({ limit: 1 });
    await client.machines.list({ limit: 2 });
    expect(dedalus.connections).toBeGreaterThan(connections);
    expect((await proxy.connects(hostOf(dedalus.url))) - connects).toBe(dedalus.connections - connections);

    const untrusting = networks.access((await networkFor('', { HTTPS_PROXY: proxy.url() })).network);
    const setup = {
      scaleSet: 'net',
      runnerImage: '',
      config: { ...set.dedalus, baseUrl: dedalus.url, apiKey: new Secret(dedalus.apiKey) },
    };
    const [failed] = await dedalusChecks(setup, { timeoutMs: 5_000, env: {}, network: untrusting });
    expect(failed).toMatchObject({
      id: 'dedalus-api',
      status: 'fail',
      detail: expect.stringMatching(/^the certificate of 127\.0\.0\.1 is signed by an unknown authority/),
      hint: expect.stringContaining('set ca-file to a PEM bundle of that CA'),
      route: `via proxy ${proxy.url()} (HTTPS_PROXY); CA: Node's bundled roots${process.env.NODE_EXTRA_CA_CERTS ? ` + NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS}` : ''}`,
    });
    const [passed] = await dedalusChecks(setup, { timeoutMs: 5_000, env: {}, network: access });
    expect(passed).toMatchObject({ status: 'ok', route: expect.stringContaining(`CA: file ${pki.caFile}`) });
  });
});

describe('pools', () => {
  it('one per distinct setting: equal settings share a dispatcher, another proxy gets its own', async () => {
    const pools = new Networks();
    try {
      const a = pools.access((await networkFor('', { HTTPS_PROXY: proxy.url() })).network);
      const b = pools.access((await networkFor('', { HTTPS_PROXY: proxy.url() })).network);
      const c = pools.access((await networkFor('', { HTTPS_PROXY: authProxy.url() })).network);
      expect(b.dispatcher).toBe(a.dispatcher);
      expect(c.dispatcher).not.toBe(a.dispatcher);
      expect(pools.size).toBe(2);
    } finally {
      await pools.close();
    }
  });
});
