import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DedalusBackend } from '../../backends/dedalus/index.js';
import type { RunnerSpec } from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { type DedalusFixture, dedalusFixture } from '../fakes/dedalus/backend-fixture.js';
import { exitOf } from './conformance.js';

/**
 * The platform's sleep hold window, against the fake: a machine refuses to sleep for a while after it
 * woke (409 SLEEP_HOLD_WINDOW_ACTIVE). A few seconds here; about five minutes for real.
 */
const WINDOW_MS = 4_000;
const sig = () => AbortSignal.timeout(30_000);
let nextId = 1;

function spec(fx: DedalusFixture, script: string): RunnerSpec {
  return {
    name: makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId),
    runnerId: nextId++,
    jitConfig: fx.jit(script),
  };
}

async function runJob(fx: DedalusFixture, b: DedalusBackend, script: string) {
  const s = spec(fx, script);
  const exited = exitOf(b.events(sig()), s.name);
  const handle = await b.start(s, sig());
  return { handle, exit: await exited };
}

const sleeps = (fx: DedalusFixture, id: string) =>
  fx.fake.requestsFor(id).filter((r) => r.route === 'machines.sleep');
const wakes = (fx: DedalusFixture, id: string) =>
  fx.fake.requestsFor(id).filter((r) => r.route === 'machines.wake');

/** The release of the job asked for a sleep and the platform refused it. */
const refused = (fx: DedalusFixture, id: string, n = 1) =>
  fx.fake.waitFor(() => sleeps(fx, id).filter((r) => r.status === 409).length >= n, {
    what: `sleep of ${id} refused ${n}×`,
  });

describe('dedalus backend: the sleep hold window', () => {
  it('a job that ends inside the window leaves its machine warm; the next job takes it without a wake; it sleeps once eligible', async () => {
    const fx = await dedalusFixture({ sleepHoldWindowMs: WINDOW_MS });
    const b = fx.backend();
    const first = await runJob(fx, b, 'exit 0');
    const id = first.handle.resourceId;
    await refused(fx, id);
    const eligibleAt = fx.fake.sleepEligibleAt(id);
    expect(eligibleAt, 'the job ended inside the window (the premise of this test)').toBeDefined();
    // Warm: awake, back in the pool at once (no lock held on it while the window lasts).
    expect(fx.fake.machine(id)?.phase).toBe('running');
    expect(b.poolStatus()).toMatchObject({ warm: 1, sleeping: 0, busy: 0 });
    const refusal = sleeps(fx, id).at(-1);
    expect(refusal?.status).toBe(409);
    // The backend has taken the refusal in (the machine is warm for the window): only then is the next
    // job's claim one that ends a hold. A claim while the refusal is still on its way back is the race
    // of its own test below ("… while its refused sleep is still on the wire …").
    await pollUntil(() => b.metrics().counters.sleepsHeld === 1 || undefined, {
      timeout: 10_000,
      what: 'the refusal taken in by the backend',
    });

    const second = await runJob(fx, b, 'exit 0');
    expect(second.handle).toMatchObject({ resourceId: id, tier: 'warm' });
    expect(second.exit.exitCode).toBe(0);
    expect(wakes(fx, id)).toEqual([]);
    expect(fx.fake.machine(id)?.history).toEqual(['accepted', 'starting', 'running']);

    await fx.fake.waitFor(() => fx.fake.machine(id)?.phase === 'sleeping', {
      what: 'asleep once eligible',
      timeout: WINDOW_MS + 10_000,
    });
    const accepted = sleeps(fx, id).filter((r) => r.status < 300);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.at).toBeGreaterThanOrEqual(eligibleAt ?? Number.POSITIVE_INFINITY);
    // One request per release, none resent inside the window; the second job ended inside it too.
    const refusals = sleeps(fx, id).filter((r) => r.status === 409);
    expect(refusals, 'both jobs ended inside the window (the premise of this test)').toHaveLength(2);

    // Each job's figures count the extra awake time, labelled: the first's until the second claimed
    // the machine (at once here), the second's until the deferred sleep.
    const figures = await fx.fake.waitFor(
      () => b.metrics().lastJobFigures.length === 2 && b.metrics().lastJobFigures,
      { what: 'figures of both jobs' },
    );
    const [one, two] = [first, second].map((j) => figures.find((f) => f.runner === j.handle.name));
    expect(one).toMatchObject({ holdWindowEnd: 'claimed', holdWindowSeconds: expect.any(Number) });
    expect(two).toMatchObject({ holdWindowEnd: 'asleep', holdWindowCostUsd: expect.any(Number) });
    const held = ((accepted[0]?.at ?? 0) - (refusals[1]?.at ?? 0)) / 1000;
    expect(two?.holdWindowSeconds).toBeGreaterThan(held - 0.5);
    expect(two?.holdWindowSeconds).toBeLessThan(held + 1);
    expect(two?.holdWindowCostUsd).toBeGreaterThan(0);
    expect(two?.awakeSeconds).toBeGreaterThanOrEqual(two?.holdWindowSeconds ?? Number.POSITIVE_INFINITY);
    expect(two?.estimatedCostUsd).toBeGreaterThanOrEqual(two?.holdWindowCostUsd ?? Number.POSITIVE_INFINITY);
    expect(fx.logs.some((l) => l.includes('dedalus job figures') && l.includes('"holdWindowSeconds"'))).toBe(
      true,
    );
    expect(b.metrics().counters).toMatchObject({ sleepsHeld: 2, slept: 1 });
    expect(b.metrics().counters.holdWindowSeconds).toBeGreaterThan(held - 0.5);
    // What status, the dashboard and the metrics show: the same total, priced.
    const [cost] = b.costs();
    expect(cost).toEqual({
      cause: 'hold-window',
      seconds: b.metrics().counters.holdWindowSeconds,
      usd: expect.any(Number),
    });
    expect(cost?.usd).toBeGreaterThanOrEqual(two?.holdWindowCostUsd ?? Number.POSITIVE_INFINITY);
  });

  it('never resends a sleep refused with retryable: false (an unknown error_code is named, not a crash)', async () => {
    const fx = await dedalusFixture();
    // Pool rounds every 50 ms: every one of them is a chance to resend, and none may.
    const b = fx.backend({}, { timing: { maintenanceIntervalMs: 50, sleepRetryMs: 50 } });
    fx.fake.faults.inject({
      route: 'machines.sleep',
      status: 409,
      errorCode: 'SLEEP_HOLD_WINDOW_ACTIVE',
      retryable: false,
      retryAfterMs: 50,
    });
    const first = await runJob(fx, b, 'exit 0');
    const id = first.handle.resourceId;
    await refused(fx, id);
    const rounds = fx.fake.requests.filter((r) => r.route === 'machines.list').length;
    await fx.fake.waitFor(
      () => fx.fake.requests.filter((r) => r.route === 'machines.list').length >= rounds + 10,
      { what: 'ten pool rounds after the refusal' },
    );
    expect(sleeps(fx, id)).toHaveLength(1);
    expect(fx.fake.machine(id)?.phase).toBe('running');
    expect(b.metrics().counters.sleepsRefused).toBe(1);
    expect(fx.logs.some((l) => l.includes('SLEEP_HOLD_WINDOW_ACTIVE, not retryable'))).toBe(true);

    // Still a warm pool machine: the next job takes it at once, and its release asks again (once).
    fx.fake.faults.inject({
      route: 'machines.sleep',
      status: 409,
      errorCode: 'NEVER_SEEN_BEFORE',
      retryable: false,
    });
    const second = await runJob(fx, b, 'exit 0');
    expect(second.handle).toMatchObject({ resourceId: id, tier: 'warm' });
    await refused(fx, id, 2);
    const more = fx.fake.requests.filter((r) => r.route === 'machines.list').length;
    await fx.fake.waitFor(
      () => fx.fake.requests.filter((r) => r.route === 'machines.list').length >= more + 10,
      { what: 'ten more pool rounds' },
    );
    expect(sleeps(fx, id)).toHaveLength(2);
    expect(fx.logs.some((l) => l.includes('NEVER_SEEN_BEFORE, not retryable'))).toBe(true);
  });

  it('never interrupts a job that claimed the machine while its sleep waited for the window', async () => {
    const fx = await dedalusFixture({ sleepHoldWindowMs: WINDOW_MS });
    const b = fx.backend({}, { timing: { maintenanceIntervalMs: 50 } });
    const first = await runJob(fx, b, 'exit 0');
    const id = first.handle.resourceId;
    await refused(fx, id);
    // The premise: the next job claims the machine inside its window. A first job slowed by a loaded
    // machine can leave only milliseconds of it, and the pool then sleeps the machine before the claim
    // (the fresh-clone CI of 50344bc: the claim woke it), so the window starts again here.
    fx.fake.restartHoldWindow(id);
    const eligibleAt = fx.fake.sleepEligibleAt(id) ?? 0;
    expect(eligibleAt, 'the machine is inside its window (the premise of this test)').toBeGreaterThan(0);

    // The second job runs until the test lets it go, well past the moment the deferred sleep was due.
    const s = spec(fx, 'while [ ! -e "$HOME/go" ]; do sleep 0.05; done; echo ran > "$HOME/second-job"');
    const exited = exitOf(b.events(sig()), s.name);
    const handle = await b.start(s, sig());
    expect(handle).toMatchObject({ resourceId: id, tier: 'warm' });
    const claimedAt = Date.now();
    const sleepsBefore = sleeps(fx, id).length;
    await fx.fake.waitFor(
      () =>
        fx.fake.requests.filter((r) => r.route === 'machines.list' && r.at > eligibleAt + 500).length >= 5,
      { what: 'pool rounds after the sleep was due', timeout: WINDOW_MS + 10_000 },
    );
    expect(sleeps(fx, id)).toHaveLength(sleepsBefore);
    expect(fx.fake.machine(id)?.phase).toBe('running');
    const runner = fx.fake
      .executions(id)
      .find((e) => e.env.ACTIONS_RUNNER_INPUT_JITCONFIG === s.jitConfig.reveal());
    expect(runner).toMatchObject({ status: 'running', frozen: false });

    writeFileSync(fx.home(fx.fake.machine(id), 'go'), '');
    const exit = await exited;
    expect(exit.exitCode).toBe(0);
    expect(sleeps(fx, id).filter((r) => r.at >= claimedAt && r.at < exit.at.getTime())).toEqual([]);
    expect(fx.fake.machine(id)?.history).toEqual(['accepted', 'starting', 'running']);
    // Eligible by now: the release after the job puts it to sleep at once.
    await fx.fake.waitFor(() => fx.fake.machine(id)?.phase === 'sleeping', { what: 'asleep after the job' });
    const figures = await fx.fake.waitFor(
      () => b.metrics().lastJobFigures.length === 2 && b.metrics().lastJobFigures,
      { what: 'figures of both jobs' },
    );
    expect(figures[1]?.holdWindowSeconds).toBeUndefined();
  });

  it('a job that claims the machine while its refused sleep is still on the wire gets it, and both jobs are accounted for', async () => {
    const fx = await dedalusFixture({ sleepHoldWindowMs: WINDOW_MS });
    const b = fx.backend();
    // The release's sleep is answered late: time for the next job to claim the machine meanwhile.
    fx.fake.faults.inject({
      route: 'machines.sleep',
      status: 409,
      errorCode: 'SLEEP_HOLD_WINDOW_ACTIVE',
      retryAfterMs: WINDOW_MS,
      delayMs: 1_000,
    });
    const first = await runJob(fx, b, 'exit 0');
    const id = first.handle.resourceId;
    await fx.fake.waitFor(() => sleeps(fx, id).some((r) => r.status === 0), { what: 'sleep request out' });
    const second = await runJob(fx, b, 'exit 0');
    expect(second.handle).toMatchObject({ resourceId: id, tier: 'warm' });
    expect(sleeps(fx, id)[0]?.status).toBe(409);
    expect(wakes(fx, id)).toEqual([]);
    await fx.fake.waitFor(() => fx.fake.machine(id)?.phase === 'sleeping', {
      what: 'asleep after the second job',
      timeout: WINDOW_MS + 10_000,
    });
    const figures = await fx.fake.waitFor(
      () => b.metrics().lastJobFigures.length === 2 && b.metrics().lastJobFigures,
      { what: 'figures of both jobs' },
    );
    // The first job's machine went to the second job, not into a hold: no hold-window time for it.
    const one = figures.find((f) => f.runner === first.handle.name);
    expect(one?.holdWindowSeconds).toBeUndefined();
    expect(figures.find((f) => f.runner === second.handle.name)?.machineId).toBe(id);
  });

  it('at shutdown leaves a machine still in its window to the autosleep of the platform, restored by the next start', async () => {
    const fx = await dedalusFixture({ sleepHoldWindowMs: WINDOW_MS });
    const b = fx.backend({}, { timing: { handOverMarginMs: 500 } });
    const first = await runJob(fx, b, 'exit 0');
    const id = first.handle.resourceId;
    await refused(fx, id);
    const longAutosleep = fx.fake.machine(id)?.autosleepSeconds ?? 0;
    await b.close({ signal: sig() });
    // Not waited for: the rest of the window plus the margin, as the machine's autosleep.
    expect(fx.fake.machine(id)?.phase).toBe('running');
    const short = fx.fake.machine(id)?.autosleepSeconds ?? 0;
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(Math.ceil((WINDOW_MS + 500) / 1000));
    await fx.fake.waitFor(() => fx.fake.machine(id)?.phase === 'sleeping', {
      what: 'asleep by its autosleep',
      timeout: WINDOW_MS + 10_000,
    });
    expect(fx.fake.machine(id)?.reason).toBe('autosleep');
    const figures = b.metrics().lastJobFigures;
    expect(figures.at(-1)).toMatchObject({ holdWindowEnd: 'closed', holdWindowSeconds: expect.any(Number) });

    const next = fx.backend({}, { timing: { handOverMarginMs: 500 } });
    await next.prepare(sig());
    await pollUntil(() => fx.fake.machine(id)?.autosleepSeconds === longAutosleep, {
      timeout: 5000,
      what: 'autosleep restored at adoption',
    });
  });
});
