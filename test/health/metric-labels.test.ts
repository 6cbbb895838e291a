import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendKind } from '../../backends/index.js';
import type { StartTier } from '../../backends/types.js';
import { parseConfigText } from '../../src/config/index.js';
import type { RunnerConfig } from '../../src/config/types.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { CleanupKind, ReconnectReason, UndecodableKind } from '../../src/events.js';
import { createMetrics, type HostKind } from '../../src/health/metrics.js';
import type { RunnerStateName } from '../../src/health/status-types.js';
import { configFor, startTestDaemon } from '../daemon/harness.js';
import { freePort } from '../e2e/support/daemon-files.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { TEST_DELAYS } from '../fakes/dedalus/harness.js';
import { startFakeDedalus } from '../fakes/dedalus/index.js';
import { provisionInstalling } from '../fakes/dedalus/provision-script.js';
import { InProcessBackend } from '../fakes/inprocess-backend.js';
import { IMAGE, tartFixture } from '../fakes/tart/fixture.js';
import { ensureDocker, FAKE_IMAGE, removeByInstance } from '../setup/docker.js';
import { scrapeAgreeing, total } from './daemon-scrape.js';
import type { Exposition } from './prom-text.js';

/**
 * Every label value README documents, per metric and label. `every` makes the compiler check each list
 * against its type, both ways: a value added to the type but not here (or here but not in the type)
 * does not build.
 */
const every = <T extends string>(values: Record<T, true>) => Object.keys(values) as T[];
const BACKENDS = every<BackendKind>({ docker: true, tart: true, dedalus: true });
const DOCUMENTED: Record<string, Record<string, readonly string[]>> = {
  runner_start_duration_seconds: {
    backend: BACKENDS,
    tier: every<StartTier>({ cold: true, warm: true, woken: true }),
  },
  // Besides `capacity`, a failure's reason is the error's code: an open set.
  runner_start_failures_total: { reason: ['capacity'] },
  runner_listener_reconnects_total: {
    reason: every<ReconnectReason>({
      'session-conflict': true,
      'session-error': true,
      'listener-error': true,
    }),
  },
  runner_cleaned_up_total: {
    kind: every<CleanupKind>({ container: true, vm: true, machine: true, registration: true, session: true }),
  },
  runner_undecodable_messages_total: { kind: every<UndecodableKind>({ message: true, 'job-message': true }) },
  runner_runners: {
    state: every<RunnerStateName>({
      creating: true,
      idle: true,
      busy: true,
      done: true,
      failed: true,
      removing: true,
    }),
  },
  // Whatever the backends' poolStatus() returns: Tart's tiers, then Dedalus's.
  runner_host_runners: { kind: every<HostKind>({ used: true, budget: true }) },
  runner_host_cpus: { kind: every<HostKind>({ used: true, budget: true }) },
  runner_host_memory_bytes: { kind: every<HostKind>({ used: true, budget: true }) },
  runner_pool_size: { tier: ['warm', 'booting', 'sleeping', 'busy', 'creating', 'draining', 'total'] },
  // Whatever the backends' costs() return: Dedalus's.
  runner_backend_cost_seconds: { cause: ['hold-window'] },
  runner_backend_cost_usd: { cause: ['hold-window'] },
};
/** Labels whose every possible value is documented (the others carry codes or free text). */
const CLOSED = new Set([
  'backend',
  'tier',
  'cause',
  'kind',
  'state',
  'runner_listener_reconnects_total.reason',
]);
/** The test backends' kind: never configured by a user, so not documented. */
const TEST_BACKEND = 'noop';

/** Every scrape of every scenario below; the last test reads them all. */
const scrapes: Exposition[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(): Promise<FakeActionsService> {
  const f = await startFakeActionsService({
    holdMs: 300,
    sessionIdleTimeoutMs: 1500,
    runnerClaimHoldMs: 2_000,
    // A job whose announcement could not be decoded is announced again this soon.
    reannounceMs: 300,
  });
  cleanups.push(() => f.close());
  return f;
}

/** A config for `toml` against `f`, with the health server on a free port. */
async function configWithHealth(
  f: FakeActionsService,
  toml: string,
  stateDir?: string,
): Promise<RunnerConfig> {
  return { ...(await configFor(f, toml, stateDir)), healthPort: await freePort() };
}

async function run(config: RunnerConfig, backend?: InProcessBackend): Promise<Daemon> {
  const { daemon } = await startTestDaemon(config, backend ? { backend: () => backend } : {});
  cleanups.push(async () => {
    daemon.abort();
    await daemon.done;
  });
  return daemon;
}

async function scrape(daemon: Daemon): Promise<Exposition> {
  const { e } = await scrapeAgreeing(daemon);
  scrapes.push(e);
  return e;
}

const allCompleted = (f: FakeActionsService, n: number) =>
  f.waitFor(() => f.jobs().length === n && f.jobs().every((j) => j.state === 'completed'), {
    what: `${n} jobs completed`,
    timeout: 45_000,
  });

/** A job script that runs until `open()` creates the gate file (the fake runners run on this host). */
async function gate(): Promise<{ script: string; open: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'metric-labels-gate-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'open');
  return { script: `until [ -e ${file} ]; do sleep 0.05; done`, open: () => writeFile(file, '') };
}

describe('every documented metric and label value, emitted by the real code paths', () => {
  it('in-process runners: reconnects of every reason, a failed start, jobs, sessions and a restart that adopts', async () => {
    const f = await fake();
    // Before the first session: a 409 (a previous session lingers) and a plain failure to open one.
    f.faults.sessionConflict(1);
    f.faults.inject({ route: 'sessions', status: 400, times: 1 });
    const backend = new InProcessBackend();
    backend.failNextStarts = 1;
    const config = await configWithHealth(f, 'name = "linux"\nmax-runners = 2\n');
    const first = await run(config, backend);
    await f.waitFor(() => f.sessions().length === 1, {
      what: 'a session after two failures',
      timeout: 15_000,
    });
    f.queueJob({ scaleSet: 'linux' });
    f.queueJob({ scaleSet: 'linux', script: 'exit 3' });
    await allCompleted(f, 2);
    // A malformed message ends the session: the listener stops and the supervisor opens another.
    f.faults.malformedMessage('bad-json');
    const linux = () => first.status().scaleSets[0]!;
    await f.waitFor(() => linux().counters.reconnects === 3 && linux().phase === 'listening', {
      what: 'listening again after the listener error',
      timeout: 15_000,
    });
    // What cannot be decoded: a job message of a batch (skipped alone), then a whole message
    // (acknowledged unread on its third arrival). Each job runs once announced again. Poisoned only
    // once the daemon has seen every earlier job message, so the poison lands on the new job's.
    await f.waitFor(() => linux().counters.jobsCompleted === 2, { what: 'both completions seen' });
    f.faults.poisonMessage('unsafe-used-field');
    f.queueJob({ scaleSet: 'linux' });
    await f.waitFor(() => linux().counters.invalidJobMessages === 1 && linux().counters.jobsCompleted === 3, {
      what: 'a job message skipped, and its job done once announced again',
      timeout: 15_000,
    });
    f.faults.poisonMessage('undecodable-body');
    f.queueJob({ scaleSet: 'linux' });
    await f.waitFor(() => linux().counters.undecodableMessages === 1, {
      what: 'a message acknowledged unread',
    });
    await allCompleted(f, 4);
    await f.waitFor(() => linux().runners.length === 0, { what: 'runners removed' });
    const e = await scrape(first);
    const set = { scale_set: 'linux' };
    for (const reason of ['session-conflict', 'session-error', 'listener-error'])
      expect(total(e, 'runner_listener_reconnects_total', { ...set, reason }), reason).toBe(1);
    expect(total(e, 'runner_start_failures_total', { ...set, backend: 'noop', reason: 'injected' })).toBe(1);
    expect(total(e, 'gha_completed_jobs_total', { name: 'linux', job_result: 'failed' })).toBe(1);
    // Each runner that ran a job lost its container; the failed start had none, only a registration
    // (the jobs' registrations GitHub removes itself, as it does for ephemeral runners).
    for (const kind of ['message', 'job-message'])
      expect(total(e, 'runner_undecodable_messages_total', { ...set, kind }), kind).toBe(1);
    const started = total(e, 'runner_start_duration_seconds_count', { ...set, tier: 'cold' });
    expect(started).toBe(4);
    expect(total(e, 'runner_cleaned_up_total', { ...set, kind: 'container' })).toBe(started);
    expect(total(e, 'runner_cleaned_up_total', { ...set, kind: 'registration' })).toBe(1);
    // The session the malformed message ended was deleted.
    expect(total(e, 'runner_cleaned_up_total', { ...set, kind: 'session' })).toBe(1);

    // A crash with a job running, then a restart: the busy runner is adopted and finishes its job.
    const job = f.queueJob({ scaleSet: 'linux', durationMs: 1_500 });
    await f.waitFor(() => job.state === 'started', { what: 'job started' });
    first.abort();
    await first.done;
    const second = await run(config, backend);
    await f.waitFor(() => job.state === 'completed', {
      what: 'job completed after the restart',
      timeout: 15_000,
    });
    await f.waitFor(() => backend.live === 0 && second.status().scaleSets[0]!.runners.length === 0, {
      what: 'adopted runner removed',
    });
    const after = await scrape(second);
    expect(total(after, 'runner_adopted_total', set)).toBe(1);
    expect(total(after, 'runner_cleaned_up_total', { ...set, kind: 'container' })).toBe(1);
    await second.shutdown();
  });

  it('Docker: a container per job', async () => {
    const docker = await ensureDocker();
    expect(docker, 'a Docker engine').toMatchObject({ available: true });
    const f = await fake();
    const config = await configWithHealth(
      f,
      `name = "linux"\nbackend = "docker"\nrunner-image = "${FAKE_IMAGE}"\n[docker]\nnetwork = "host"\npull-policy = "never"\ncpus = 1\nmemory = "512m"\n` +
        // The engine as a host with a budget in every dimension: each runner_host_* series shows.
        `[[docker.hosts]]\nname = "local"\nurl = "${process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'}"\nmax-runners = 4\ncpus = 8\nmemory = "16g"\n`,
    );
    const daemon = await run(config);
    cleanups.push(() => removeByInstance(daemon.instanceId));
    await f.waitFor(() => f.sessions().length === 1, { what: 'session', timeout: 20_000 });
    f.queueJob({ scaleSet: 'linux' });
    await allCompleted(f, 1);
    await f.waitFor(() => daemon.status().scaleSets[0]!.runners.length === 0, {
      what: 'container removed',
      timeout: 20_000,
    });
    const e = await scrape(daemon);
    const set = { scale_set: 'linux' };
    expect(total(e, 'runner_start_duration_seconds_count', { ...set, backend: 'docker', tier: 'cold' })).toBe(
      1,
    );
    expect(total(e, 'runner_cleaned_up_total', { ...set, kind: 'container' })).toBe(1);
    expect(total(e, 'runner_host_up', { host: 'local' })).toBe(1);
    expect(total(e, 'runner_host_runners', { host: 'local', kind: 'budget' })).toBe(4);
    expect(total(e, 'runner_host_runners', { host: 'local', kind: 'used' })).toBe(0);
    expect(total(e, 'runner_host_cpus', { host: 'local', kind: 'budget' })).toBe(8);
    await daemon.shutdown();
  });

  it('Tart: a warm pool VM, a cold VM, and a start macOS refused (max-vms above its limit)', async () => {
    const fx = tartFixture();
    cleanups.push(() => fx.cleanup());
    const f = await fake();
    const runnerDir = fileURLToPath(new URL('../fakes/runner', import.meta.url));
    // Two scale sets share the host: mac-pool keeps one VM booted, mac-cold boots its own. max-vms says 3,
    // one more than macOS (the fake) allows, so the Mac's book has room where macOS refuses: a start
    // fails for capacity (were the book full, the set would wait in line without trying).
    const toml = `name = "mac"
backend = "tart"
runner-image = "${IMAGE}"
[tart]
home = "${fx.tart.home}"
runner-dir = "${runnerDir}"
boot-timeout = "30s"
max-vms = 3
[[scaleset]]
name = "mac-pool"
max-runners = 1
[scaleset.tart]
pool-size = 1
[[scaleset]]
name = "mac-cold"
max-runners = 2
`;
    const daemon = await run(await configWithHealth(f, toml, fx.stateDir));
    const of = (name: string) => daemon.status().scaleSets.find((s) => s.name === name)!;
    await f.waitFor(() => f.sessions().length === 2 && of('mac-pool').pool.warm === 1, {
      what: 'both sets listening, one pool VM booted',
      timeout: 20_000,
    });
    const g = await gate();
    // mac-cold's first job takes the second VM; macOS refuses its second a third.
    const held = f.queueJob({ scaleSet: 'mac-cold', script: g.script });
    await f.waitFor(() => held.state === 'started', { what: 'a cold VM running a job', timeout: 20_000 });
    f.queueJob({ scaleSet: 'mac-cold' });
    await f.waitFor(() => of('mac-cold').counters.startFailures > 0, {
      what: 'a start macOS refused',
      timeout: 20_000,
    });
    // mac-pool's job takes the pool VM.
    const warm = f.queueJob({ scaleSet: 'mac-pool' });
    await f.waitFor(() => warm.state === 'completed', { what: 'the job on the pool VM', timeout: 20_000 });
    await g.open();
    await allCompleted(f, 3);
    await f.waitFor(() => daemon.status().scaleSets.every((s) => s.runners.length === 0), {
      what: 'runner VMs deleted',
      timeout: 20_000,
    });
    const e = await scrape(daemon);
    const tart = { backend: 'tart' };
    expect(
      total(e, 'runner_start_duration_seconds_count', { scale_set: 'mac-pool', ...tart, tier: 'warm' }),
    ).toBe(1);
    expect(
      total(e, 'runner_start_duration_seconds_count', { scale_set: 'mac-cold', ...tart, tier: 'cold' }),
    ).toBe(2);
    expect(
      total(e, 'runner_start_failures_total', { scale_set: 'mac-cold', ...tart, reason: 'capacity' }),
    ).toBeGreaterThan(0);
    expect(total(e, 'runner_cleaned_up_total', { kind: 'vm' })).toBe(3);
    await daemon.shutdown();
  });

  it('Dedalus: a sleeping pool machine woken for a job', async () => {
    const f = await fake();
    const d = await startFakeDedalus({ delays: TEST_DELAYS });
    cleanups.push(() => d.close());
    const dir = await mkdtemp(join(tmpdir(), 'metric-labels-dedalus-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const provision = join(dir, 'provision.sh');
    const runSh = fileURLToPath(new URL('../fakes/runner/run.sh', import.meta.url));
    await writeFile(provision, provisionInstalling(runSh));
    const toml = `url = "${f.configUrl()}"
state-dir = "${join(dir, 'state')}"
health-port = ${await freePort()}
name = "cloud"
max-runners = 1
backend = "dedalus"
[dedalus]
base-url = "${d.url}"
provision-script = "${provision}"
max = 1
sleeping = 1
`;
    const config = await parseConfigText(toml, 'test.toml', {
      RUNNER_TOKEN: f.pat,
      DEDALUS_API_KEY: d.apiKey,
    });
    const daemon = await run(config);
    await d.waitFor(() => d.machines().some((m) => m.phase === 'sleeping'), {
      what: 'a sleeping pool machine',
      timeout: 20_000,
    });
    await f.waitFor(() => f.sessions().length === 1, { what: 'session', timeout: 20_000 });
    f.queueJob({ scaleSet: 'cloud' });
    await allCompleted(f, 1);
    await f.waitFor(() => daemon.status().scaleSets[0]!.runners.length === 0, {
      what: 'runner removed from its machine',
      timeout: 20_000,
    });
    const e = await scrape(daemon);
    const set = { scale_set: 'cloud' };
    expect(
      total(e, 'runner_start_duration_seconds_count', { ...set, backend: 'dedalus', tier: 'woken' }),
    ).toBe(1);
    // The runner's machine went back to sleep in the pool: its runner's resource, removed.
    expect(total(e, 'runner_cleaned_up_total', { ...set, kind: 'machine' })).toBe(1);
    await daemon.shutdown();
  });

  it('the scrapes above show every metric and every documented label value, and README documents exactly those', async () => {
    const registry = createMetrics().registry;
    const families = registry.getMetricsAsArray().map((m) => m.name);
    const seen = (family: string) =>
      scrapes.flatMap((e) => e.samples).filter((s) => s.name === family || s.name.startsWith(`${family}_`));

    for (const family of families) expect(seen(family).length, `samples of ${family}`).toBeGreaterThan(0);

    for (const [family, labels] of Object.entries(DOCUMENTED)) {
      for (const [label, values] of Object.entries(labels)) {
        const shown = new Set(
          seen(family).flatMap((s) => (s.labels[label] === undefined ? [] : [s.labels[label]])),
        );
        const missing = values.filter((v) => !shown.has(v));
        expect(missing, `${family}{${label}}: documented, never emitted`).toEqual([]);
        if (CLOSED.has(label) || CLOSED.has(`${family}.${label}`)) {
          const undocumented = [...shown].filter((v) => !values.includes(v) && v !== TEST_BACKEND);
          expect(undocumented, `${family}{${label}}: emitted, not documented`).toEqual([]);
        }
      }
    }

    // README names every metric (and nothing else), with label names the metric has, and every
    // documented value.
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const section = /## Health, metrics and the dashboard\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const named = new Map<string, string[]>();
    for (const m of section.matchAll(/`((?:gha|runner)_[a-z_]+)(?:\{([a-z_,]+)\})?`/g))
      named.set(m[1]!, [...(named.get(m[1]!) ?? []), ...(m[2]?.split(',') ?? [])]);
    expect([...named.keys()].sort()).toEqual([...families].sort());
    for (const metric of registry.getMetricsAsArray()) {
      const labelNames = (metric as unknown as { labelNames: string[] }).labelNames;
      for (const l of named.get(metric.name) ?? []) expect(labelNames, `${metric.name}{${l}}`).toContain(l);
    }
    for (const values of Object.values(DOCUMENTED).flatMap((l) => Object.values(l)))
      for (const v of values) expect(section, `README mentions \`${v}\``).toContain(`\`${v}\``);
  });
});
