import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { startTestDaemon } from '../daemon/harness.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { TEST_DELAYS } from '../fakes/dedalus/harness.js';
import { type FakeDedalus, type FakeDedalusOptions, startFakeDedalus } from '../fakes/dedalus/index.js';
import { provisionInstalling } from '../fakes/dedalus/provision-script.js';

/** The fake runner of test/fakes/runner plays the Actions runner on the fake machines. */
const FAKE_RUN_SH = fileURLToPath(new URL('../fakes/runner/run.sh', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(dedalus: string, fake: Partial<FakeDedalusOptions> = {}) {
  const f = await startFakeActionsService({
    holdMs: 300,
    sessionIdleTimeoutMs: 1500,
    runnerClaimHoldMs: 2_000,
  });
  cleanups.push(() => f.close());
  const d = await startFakeDedalus({ delays: TEST_DELAYS, ...fake });
  cleanups.push(() => d.close());
  const dir = await mkdtemp(join(tmpdir(), 'dedalus-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const provision = join(dir, 'provision.sh');
  await writeFile(provision, provisionInstalling(FAKE_RUN_SH, 'echo once >> "$HOME/provisioned"'));
  const toml = `url = "${f.configUrl()}"
state-dir = "${join(dir, 'state')}"
health-port = 0
name = "cloud"
max-runners = 2
backend = "dedalus"
[dedalus]
base-url = "${d.url}"
provision-script = "${provision}"
max = 2
${dedalus}`;
  // The default api-key = "env:DEDALUS_API_KEY" is what this exercises.
  const config = await parseConfigText(toml, 'test.toml', { RUNNER_TOKEN: f.pat, DEDALUS_API_KEY: d.apiKey });
  const { daemon, sink } = await startTestDaemon(config);
  cleanups.push(async () => {
    daemon.abort();
    await daemon.done;
  });
  await f.waitFor(() => f.sessions().length === 1, { what: 'session', timeout: 20_000 });
  return { f, d, daemon, sink };
}

function completed(f: FakeActionsService, n: number) {
  return f.waitFor(
    () => f.jobs().length === n && f.jobs().every((j) => j.state === 'completed') && f.jobs(),
    {
      what: `${n} jobs completed`,
      timeout: 45_000,
    },
  );
}

const awake = (d: FakeDedalus) =>
  d.machines().filter((m) => m.phase !== 'sleeping' && m.phase !== 'destroyed');

describe('Dedalus backend end to end: daemon, fake Actions service, fake Dedalus and fake runner', () => {
  it('runs jobs on a pooled machine that keeps its caches, sleeps it between jobs, and leaves nothing awake at SIGTERM', async () => {
    const { f, d, daemon, sink } = await setup('sleeping = 1\n');
    const pooled = await d.waitFor(() => d.machines().find((m) => m.phase === 'sleeping'), {
      what: 'sleeping pool machine',
      timeout: 20_000,
    });
    f.queueJob({
      scaleSet: 'cloud',
      script: 'mkdir -p "$HOME/.cache/tool" && echo hot > "$HOME/.cache/tool/blob" && echo junk > leftover',
    });
    await completed(f, 1);
    await d.waitFor(() => pooled.phase === 'sleeping', {
      what: 'machine asleep after the job',
      timeout: 20_000,
    });
    f.queueJob({ scaleSet: 'cloud', script: 'test -f "$HOME/.cache/tool/blob" && test ! -e leftover' });
    const jobs = await completed(f, 2);
    expect(jobs.map((j) => j.result)).toEqual(['succeeded', 'succeeded']);
    // Both jobs ran on the pool machine (its caches), each provisioned machine exactly once.
    const runners = d.executions(pooled.id).filter((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env);
    expect(runners.length).toBeGreaterThanOrEqual(2);
    for (const m of d.machines()) {
      const provisions = d.executions(m.id).filter((e) => e.stdin?.includes('echo once'));
      expect(provisions).toHaveLength(1);
    }
    expect(d.machines().length).toBeLessThanOrEqual(2);

    await daemon.shutdown();
    expect(awake(d)).toEqual([]);
    expect(d.executions().filter((e) => e.status === 'running')).toEqual([]);
    expect(sink.text).not.toContain(d.apiKey);
    expect(sink.text).toContain('dedalus job figures');
  });

  it('follows the sleep hold window: a job queued right after takes the still-warm machine without a wake, which sleeps once eligible', async () => {
    const windowMs = 8_000;
    const { f, d, daemon, sink } = await setup('', { sleepHoldWindowMs: windowMs });
    f.queueJob({ scaleSet: 'cloud', script: 'echo one > "$HOME/one"' });
    await completed(f, 1);
    const m = await d.waitFor(() => d.machines()[0], { what: 'the machine of the first job' });
    await d.waitFor(() => d.requestsFor(m.id).some((r) => r.route === 'machines.sleep' && r.status === 409), {
      what: 'its sleep refused for the hold window',
      timeout: 10_000,
    });
    const eligibleAt = d.sleepEligibleAt(m.id);
    expect(eligibleAt, 'the first job ended inside the window (the premise of this test)').toBeDefined();
    expect(m.phase).toBe('running');

    f.queueJob({ scaleSet: 'cloud', script: 'test -f "$HOME/one"' });
    const jobs = await completed(f, 2);
    expect(jobs.map((j) => j.result)).toEqual(['succeeded', 'succeeded']);
    expect(d.machines()).toHaveLength(1);
    const runners = d.executions(m.id).filter((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env);
    expect(runners).toHaveLength(2);
    // Never put to sleep nor woken between the jobs: the second started on the warm machine.
    expect(d.requestsFor(m.id).filter((r) => r.route === 'machines.wake')).toEqual([]);
    expect(m.history).toEqual(['accepted', 'starting', 'running']);

    await d.waitFor(() => m.phase === 'sleeping', {
      what: 'asleep once eligible',
      timeout: windowMs + 10_000,
    });
    const accepted = d.requestsFor(m.id).filter((r) => r.route === 'machines.sleep' && r.status < 300);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.at).toBeGreaterThanOrEqual(eligibleAt ?? Number.POSITIVE_INFINITY);

    await daemon.shutdown();
    expect(awake(d)).toEqual([]);
    expect(sink.text).toContain('holdWindowSeconds');
  });
});
