import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerSpec } from '../../backends/types.js';
import { parseConfigText } from '../../src/config/index.js';
import type { ScaleSetConfig } from '../../src/config/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { type RunnerNetwork, runnerNetwork } from '../../src/net/runner-network.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { startTestDaemon } from '../daemon/harness.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { dedalusFixture } from '../fakes/dedalus/backend-fixture.js';
import { TEST_DELAYS } from '../fakes/dedalus/harness.js';
import { startFakeDedalus } from '../fakes/dedalus/index.js';
import { provisionInstalling } from '../fakes/dedalus/provision-script.js';
import { IMAGE, spec, tartFixture } from '../fakes/tart/fixture.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { HttpsRecorder } from '../support/https-recorder.js';
import { TestPki } from '../support/pki.js';
import { Tinyproxy } from '../support/tinyproxy.js';
import { exitOf } from './conformance.js';

/**
 * The runners' proxy and CA on the backends whose runners live in a guest: Tart VMs (the fake tart
 * runs the start script for real, `tart exec` stdin included) and Dedalus machines (the fake runs
 * executions as processes). What the guest runner saw is read from the guest; then whole jobs run by a
 * daemon call an HTTPS service with a private CA through a real proxy, with nothing but what the
 * runner was given.
 */

useNetworkTools(['curl']);

const PASSWORD = 'gu3st-pr0xy-passw0rd';
const FAKE_RUNNER = fileURLToPath(new URL('../fakes/runner', import.meta.url));

let dir: string;
let pki: TestPki;
let service: HttpsRecorder;
let proxy: Tinyproxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-guest-net-'));
  pki = await TestPki.create(dir, 'corp-ca');
  service = await HttpsRecorder.start(await pki.issue('service', ['127.0.0.1']));
  proxy = await Tinyproxy.start({ dir, auth: { user: 'jobs', password: PASSWORD } });
}, 60_000);

afterAll(async () => {
  await Promise.all([service?.close(), proxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const proxyUrl = () => `http://jobs:${PASSWORD}@127.0.0.1:${proxy.port}`;

/** A scale set's runners' network as `runner run` resolves it. */
async function runnersOf(toml: string): Promise<RunnerNetwork> {
  const config = await parseConfigText(
    `url = "https://ghes.corp.example/org"\nname = "n"\ntoken = "x"\nproxy = "env:CORP_PROXY"\nno-proxy = [".corp.example"]\nca-file = "${pki.caFile}"\n${toml}`,
    join(dir, 'c.toml'),
    { CORP_PROXY: proxyUrl() },
  );
  const set = config.scaleSets[0] as ScaleSetConfig;
  return runnerNetwork(set.network, set.runnerEnv);
}

const fingerprints = (pem: string) =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (c) => new X509Certificate(c).fingerprint256,
  );
const mine = () => new X509Certificate(pki.caPem).fingerprint256;

describe('Tart: the start script delivers the proxy and the CA into the VM', () => {
  it('the guest runner starts with both proxy cases, NO_PROXY and the CA variables; the files are in ~/.runner-ca', async () => {
    const fx = tartFixture();
    cleanups.push(() => fx.cleanup());
    const backend = fx.backend({ runnerNetwork: await runnersOf('') });
    const jit = 'jit-tart-network-0123456789';
    await backend.start(
      spec(makeRunnerName('mac-ci', 'inst-0001', 'aaaa0001'), jit),
      AbortSignal.timeout(30_000),
    );
    expect(await fx.runnerStarted(jit)).toBe(jit);
    const env = fx.runnerEnv(jit);
    const cadir = `${env.HOME}/.runner-ca`;
    expect(env).toMatchObject({
      HTTPS_PROXY: proxyUrl(),
      https_proxy: proxyUrl(),
      HTTP_PROXY: proxyUrl(),
      http_proxy: proxyUrl(),
      NO_PROXY: '.corp.example',
      no_proxy: '.corp.example',
      NODE_EXTRA_CA_CERTS: `${cadir}/ca.pem`,
      SSL_CERT_FILE: `${cadir}/bundle.pem`,
      GIT_SSL_CAINFO: `${cadir}/bundle.pem`,
      CURL_CA_BUNDLE: `${cadir}/bundle.pem`,
      REQUESTS_CA_BUNDLE: `${cadir}/bundle.pem`,
      ACTIONS_RUNNER_INPUT_JITCONFIG: jit,
    });
    expect(fingerprints(readFileSync(`${cadir}/ca.pem`, 'utf8'))).toEqual([mine()]);
    expect(fingerprints(readFileSync(`${cadir}/bundle.pem`, 'utf8')).at(-1)).toBe(mine());
    // Everything travelled on stdin: no command line the host's `ps` shows carries the credentials.
    for (const c of fx.tart.calls()) expect(c.argv.join(' ')).not.toContain(PASSWORD);
  });

  it('runner-env = "none": the guest runner gets no variable and no CA directory', async () => {
    const fx = tartFixture();
    cleanups.push(() => fx.cleanup());
    const backend = fx.backend({ runnerNetwork: await runnersOf('runner-env = "none"\n') });
    const jit = 'jit-tart-none-0123456789';
    await backend.start(
      spec(makeRunnerName('mac-ci', 'inst-0001', 'aaaa0002'), jit),
      AbortSignal.timeout(30_000),
    );
    expect(await fx.runnerStarted(jit)).toBe(jit);
    const env = fx.runnerEnv(jit);
    expect(Object.keys(env).filter((k) => /proxy|CA_CERTS|CERT_FILE|CAINFO|CA_BUNDLE/i.test(k))).toEqual([]);
    expect(existsSync(`${env.HOME}/.runner-ca`)).toBe(false);
  });
});

describe('Dedalus: the runner execution carries the proxy in env and the CA files on stdin', () => {
  it('writes ~/.runner-ca before run.sh, and removes it for a job of a scale set that passes no CA', async () => {
    const fx = await dedalusFixture();
    const report = 'env > "$HOME/job-env"; cat "$NODE_EXTRA_CA_CERTS" > "$HOME/job-ca.pem"';
    const first = fx.backend({}, { runnerNetwork: await runnersOf('') });
    const s1: RunnerSpec = {
      name: makeRunnerName('dedalus-e2e', fx.owner.instanceId),
      runnerId: 1,
      jitConfig: fx.jit(report),
    };
    const exit1 = exitOf(first.events(AbortSignal.timeout(20_000)), s1.name);
    const h1 = await first.start(s1, AbortSignal.timeout(20_000));
    expect((await exit1).exitCode).toBe(0);
    const machine = fx.fake.machine(h1.resourceId);
    const execution = fx.fake
      .executions(h1.resourceId)
      .find((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env);
    expect(execution?.env).toMatchObject({
      HTTPS_PROXY: proxyUrl(),
      https_proxy: proxyUrl(),
      NO_PROXY: '.corp.example',
      NODE_EXTRA_CA_CERTS: '/home/machine/.runner-ca/ca.pem',
      SSL_CERT_FILE: '/home/machine/.runner-ca/bundle.pem',
    });
    expect(execution?.command.join(' ')).not.toContain(PASSWORD);
    expect(execution?.stdin).toContain(pki.caPem.trim());
    const jobEnv = readFileSync(fx.home(machine, 'job-env'), 'utf8');
    expect(jobEnv).toContain(`https_proxy=${proxyUrl()}\n`);
    expect(fingerprints(readFileSync(fx.home(machine, 'job-ca.pem'), 'utf8'))).toEqual([mine()]);
    expect(fingerprints(readFileSync(fx.home(machine, '.runner-ca/bundle.pem'), 'utf8')).at(-1)).toBe(mine());
    await first.close({ signal: AbortSignal.timeout(15_000) });

    // The same machine, now for a daemon whose config passes nothing: no stale CA is left for its job.
    const second = fx.backend({}, { runnerNetwork: await runnersOf('runner-env = "none"\n') });
    const check =
      'test ! -e "$HOME/.runner-ca" || exit 10; env | grep -i -E "^(https?_proxy|no_proxy|node_extra_ca_certs)=" && exit 11; exit 0';
    const s2: RunnerSpec = {
      name: makeRunnerName('dedalus-e2e', fx.owner.instanceId),
      runnerId: 2,
      jitConfig: fx.jit(check),
    };
    const exit2 = exitOf(second.events(AbortSignal.timeout(20_000)), s2.name);
    const h2 = await second.start(s2, AbortSignal.timeout(20_000));
    expect(h2.resourceId).toBe(h1.resourceId);
    expect((await exit2).exitCode).toBe(0);
    const none = fx.fake
      .executions(h2.resourceId)
      .filter((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env)
      .at(-1);
    expect(none?.stdin).toBeUndefined();
  });
});

describe('jobs on Tart VMs and Dedalus machines call an HTTPS service through the proxy with the CA', () => {
  /** curl with no option: the proxy and the CA come from the environment the runner was given. */
  const job = (path: string) =>
    `{ env; echo @@@; cat "$NODE_EXTRA_CA_CERTS"; } | curl -sS --fail --data-binary @- ${service.url}${path}`;

  async function daemonJob(
    f: FakeActionsService,
    backendToml: string,
    noProxy: string[],
    scaleSet: string,
    path: string,
  ) {
    const stateDir = join(dir, `state-${scaleSet}`);
    const toml = [
      `url = "${f.configUrl()}"`,
      `state-dir = "${stateDir}"`,
      'health-port = 0',
      `name = "${scaleSet}"`,
      'max-runners = 1',
      'proxy = "env:CORP_PROXY"',
      // The daemon reaches the fakes directly; to the job's curl these `host:port` entries match nothing.
      `no-proxy = [${noProxy.map((h) => `"${h}"`).join(', ')}]`,
      `ca-file = "${pki.caFile}"`,
      backendToml,
    ].join('\n');
    const config = await parseConfigText(toml, join(dir, `${scaleSet}.toml`), {
      RUNNER_TOKEN: f.pat,
      CORP_PROXY: proxyUrl(),
      ...(backendToml.includes('dedalus') ? { DEDALUS_API_KEY: dedalusKey } : {}),
    });
    const { daemon, sink } = await startTestDaemon(config);
    cleanups.push(async () => {
      daemon.abort();
      await daemon.done;
    });
    await f.waitFor(() => f.sessions().length === 1, { what: 'session', timeout: 20_000 });
    const connects = await proxy.connects(service.host);
    const connections = service.connections;
    f.queueJob({ scaleSet, script: job(path) });
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', { what: 'the job completed', timeout: 45_000 });
    expect(f.jobs()[0]?.result).toBe('succeeded');
    const report = await pollUntil(() => service.requests.find((r) => r.path === path), {
      what: `the report of ${scaleSet}`,
      timeout: 5_000,
    });
    const [vars = '', caPem = ''] = report.body.split('@@@\n');
    expect(vars).toContain(`https_proxy=${proxyUrl()}\n`);
    expect(caPem.trim()).toBe(pki.caPem.trim());
    expect(service.connections - connections).toBe(1);
    expect((await proxy.connects(service.host)) - connects).toBe(1);
    expect(sink.text).not.toContain(PASSWORD);
    // True of a real VM or machine, not of these fakes, whose guests run on this host: said at start.
    expect(
      sink.lines.filter((l) => l.includes('"level":"warn"') && l.includes("this host's loopback")),
    ).toHaveLength(1);
    await daemon.shutdown();
  }

  let dedalusKey = '';

  it('on a Tart VM', async () => {
    const fx = tartFixture();
    cleanups.push(() => fx.cleanup());
    const f = await startFakeActionsService({
      holdMs: 300,
      sessionIdleTimeoutMs: 1500,
      runnerClaimHoldMs: 2_000,
    });
    cleanups.push(() => f.close());
    const tart = `backend = "tart"\nrunner-image = "${IMAGE}"\n[tart]\nhome = "${fx.tart.home}"\nrunner-dir = "${FAKE_RUNNER}"\nboot-timeout = "30s"\n`;
    await daemonJob(f, tart, [new URL(f.configUrl()).host], 'mac', '/tart');
  });

  it('on a Dedalus machine', async () => {
    const f = await startFakeActionsService({
      holdMs: 300,
      sessionIdleTimeoutMs: 1500,
      runnerClaimHoldMs: 2_000,
    });
    cleanups.push(() => f.close());
    const d = await startFakeDedalus({ delays: TEST_DELAYS });
    cleanups.push(() => d.close());
    dedalusKey = d.apiKey;
    const provision = join(dir, 'provision.sh');
    await writeFile(provision, provisionInstalling(join(FAKE_RUNNER, 'run.sh')));
    const dedalus = `backend = "dedalus"\n[dedalus]\nbase-url = "${d.url}"\nprovision-script = "${provision}"\nmax = 1\n`;
    await daemonJob(f, dedalus, [new URL(f.configUrl()).host, new URL(d.url).host], 'cloud', '/dedalus');
  });
});
