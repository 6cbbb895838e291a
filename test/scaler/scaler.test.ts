import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../src/events.js';
import type { JobCompleted, JobStarted } from '../../src/github/types.js';
import { RunnerScaler } from '../../src/scaler/scaler.js';
import type { Registrar } from '../../src/scaler/types.js';
import { Secret } from '../../src/secret.js';
import { ScaleSetStore } from '../../src/state/scale-set-store.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryBackend } from './memory-backend.js';

class MemoryRegistrar implements Registrar {
  nextId = 1;
  /** Unregister calls fail (GitHub unreachable) while this is > 0. */
  failUnregister = 0;
  readonly registered = new Map<number, string>();
  readonly busy = new Set<number>();
  readonly calls: string[] = [];
  async register(name: string) {
    const id = this.nextId++;
    this.registered.set(id, name);
    this.calls.push(`register ${name}`);
    return { runnerId: id, jitConfig: new Secret(`jit-secret-${id}-xxxxxxxx`) };
  }
  async unregister(id: number) {
    this.calls.push(`unregister ${id}`);
    if (this.failUnregister > 0) {
      this.failUnregister--;
      throw new Error('HTTP 500');
    }
    if (this.busy.has(id)) return 'busy' as const;
    return this.registered.delete(id) ? ('removed' as const) : ('not-found' as const);
  }
}

function job(kind: 'JobStarted', runnerName: string, requestId?: number): JobStarted;
function job(kind: 'JobCompleted', runnerName: string, requestId?: number): JobCompleted;
function job(
  kind: 'JobStarted' | 'JobCompleted',
  runnerName: string,
  requestId = 1,
): JobStarted | JobCompleted {
  const base = {
    runnerRequestId: requestId,
    repositoryName: 'r',
    ownerName: 'o',
    jobId: 'j',
    jobWorkflowRef: 'w',
    jobDisplayName: 'd',
    workflowRunId: 1,
    eventName: 'push',
    requestLabels: [],
    queueTime: null,
    scaleSetAssignTime: null,
    runnerAssignTime: null,
    finishTime: null,
    runnerId: 1,
    runnerName,
  };
  return kind === 'JobStarted'
    ? ({ ...base, messageType: 'JobStarted' } as JobStarted)
    : ({ ...base, messageType: 'JobCompleted', result: 'succeeded' } as JobCompleted);
}

describe('RunnerScaler', () => {
  let dir: string;
  let backend: MemoryBackend;
  let registrar: MemoryRegistrar;
  let events: DaemonEvent[];
  const scalers: RunnerScaler[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scaler-'));
    backend = new MemoryBackend();
    registrar = new MemoryRegistrar();
    events = [];
  });

  /** The events of one type the scalers emitted so far. */
  function emitted<T extends DaemonEvent['type']>(type: T): Extract<DaemonEvent, { type: T }>[] {
    return events.filter((e): e is Extract<DaemonEvent, { type: T }> => e.type === type);
  }
  /** Cleaned-up counts by kind, e.g. { registration: 2, container: 1 }. */
  function cleaned(): Record<string, number> {
    const by: Record<string, number> = {};
    for (const e of emitted('cleaned-up')) by[e.kind] = (by[e.kind] ?? 0) + e.count;
    return by;
  }
  afterEach(async () => {
    for (const s of scalers.splice(0)) await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function make(over: Partial<ConstructorParameters<typeof RunnerScaler>[0]> = {}) {
    const store = await ScaleSetStore.open(dir, 'linux', () => {});
    const s = new RunnerScaler({
      scaleSet: 'linux',
      instanceId: 'inst-abcdef',
      minRunners: 0,
      maxRunners: 5,
      idleTimeout: 0,
      startConcurrency: 4,
      reconcileInterval: 60_000,
      backend,
      registrar,
      store,
      startBackoff: { initial: 10, max: 50 },
      emit: (ev) => events.push(ev),
      ...over,
    });
    scalers.push(s);
    await s.start();
    return { s, store };
  }

  const live = () => [...backend.resources.values()].filter((r) => r.state === 'running').length;

  it('targets min(max, min + assigned) and starts that many runners', async () => {
    const { s } = await make({ minRunners: 1, maxRunners: 3 });
    expect(await s.handleDesiredRunnerCount(0)).toBe(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'one idle runner' });
    expect(await s.handleDesiredRunnerCount(10)).toBe(3);
    await pollUntil(() => s.count('idle') === 3, { timeout: 2000, what: 'three idle runners' });
    expect(live()).toBe(3);
  });

  it('bounds concurrent backend starts by start-concurrency; registrations run one round ahead', async () => {
    const { s } = await make({ maxRunners: 10, startConcurrency: 2 });
    backend.hold();
    await s.handleDesiredRunnerCount(6);
    // Two starts held in the backend, two more registered and waiting for a slot, none beyond.
    await pollUntil(() => registrar.registered.size === 4, { timeout: 2000, what: 'four registered' });
    expect(s.count('creating')).toBe(4);
    expect(backend.maxConcurrentStarts).toBe(2);
    backend.release();
    await pollUntil(() => s.count('idle') === 6, { timeout: 2000, what: 'six idle' });
    expect(backend.maxConcurrentStarts).toBe(2);
  });

  it('starts no runner while the state file cannot be written, and starts them once a retried write succeeds', async () => {
    // A directory where the ledger should be: every write fails, as on a full disk, until it goes.
    const store = await ScaleSetStore.open(dir, 'linux', () => {}, { retryMs: 20 });
    const ledger = join(dir, 'scalesets', 'linux.json');
    await mkdir(join(ledger, 'in-the-way'), { recursive: true });
    const s = new RunnerScaler({
      scaleSet: 'linux',
      instanceId: 'inst-abcdef',
      minRunners: 0,
      maxRunners: 5,
      idleTimeout: 0,
      startConcurrency: 4,
      reconcileInterval: 60_000,
      backend,
      registrar,
      store,
    });
    scalers.push(s);
    await s.start();
    // The scale set's id is the first thing the daemon writes: that write finds the outage.
    store.scaleSetId = 7;
    await store.flush();
    expect(store.outage).toBeDefined();

    await s.handleDesiredRunnerCount(2);
    // A negative check needs a bound: several retries of the write pass without a registration.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(registrar.calls).toEqual([]);
    expect(s.runners()).toEqual([]);
    expect(s.target).toBe(2);

    await rm(ledger, { recursive: true });
    await pollUntil(() => s.count('idle') === 2, { timeout: 2000, what: 'two runners once it is written' });
    expect(store.outage).toBeUndefined();
    await store.flush();
    expect([...store.runners().keys()].sort()).toEqual(
      s
        .runners()
        .map((r) => r.name)
        .sort(),
    );
  });

  it('removes the registration of a failed start and retries with backoff', async () => {
    const { s } = await make();
    backend.failStarts = 2;
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 3000, what: 'a runner after retries' });
    const failures = emitted('runner-start-failed');
    expect(failures.map((e) => [e.scaleSet, e.backend, e.reason])).toEqual([
      ['linux', 'noop', 'boom'],
      ['linux', 'noop', 'boom'],
    ]);
    expect(emitted('runner-started').map((e) => [e.runner, e.tier])).toEqual([
      [s.runners()[0]!.name, 'cold'],
    ]);
    // A failed start left no container to remove: only its registration counts.
    expect(cleaned()).toEqual({ registration: 2 });
    // Two failed registrations were removed again; the live one stays.
    expect(registrar.calls.filter((c) => c.startsWith('unregister'))).toEqual([
      'unregister 1',
      'unregister 2',
    ]);
    expect([...registrar.registered.keys()]).toEqual([3]);
  });

  it('marks busy on JobStarted and removes the runner on JobCompleted', async () => {
    const { s, store } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]!.name;
    await s.handleJobStarted(job('JobStarted', name));
    expect(s.runners()[0]!.state).toBe('busy');
    await s.handleDesiredRunnerCount(0);
    expect(s.count('busy')).toBe(1); // busy runners are never scaled down
    await s.handleJobCompleted(job('JobCompleted', name));
    await pollUntil(() => s.runners().length === 0, { timeout: 2000, what: 'runner removed' });
    expect(backend.resources.has(name)).toBe(false);
    await store.flush();
    expect(store.runners().size).toBe(0);
    expect(cleaned()).toEqual({ registration: 1, container: 1 });
  });

  it("reports a removed runner's resource as the backend's resource kind", async () => {
    backend.resourceKind = 'machine';
    const { s } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => s.runners().length === 0, { timeout: 2000, what: 'scaled down' });
    expect(cleaned()).toEqual({ registration: 1, machine: 1 });
    expect(emitted('cleaned-up').every((e) => e.scaleSet === 'linux' && e.count === 1)).toBe(true);
  });

  it('scales surplus idle runners down but keeps one GitHub says is busy', async () => {
    const { s } = await make();
    await s.handleDesiredRunnerCount(2);
    await pollUntil(() => s.count('idle') === 2, { timeout: 2000 });
    registrar.busy.add(1);
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => s.runners().length === 1 && s.count('busy') === 1, { timeout: 2000 });
    expect(s.runners()[0]!.name).toBe(registrar.registered.get(1));
  });

  it('replaces a runner that died before taking a job', async () => {
    const { s } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const first = s.runners()[0]!.name;
    backend.exit(first, 137);
    await pollUntil(() => s.count('idle') === 1 && s.runners()[0]!.name !== first, {
      timeout: 2000,
      what: 'replacement runner',
    });
    expect(backend.resources.has(first)).toBe(false);
  });

  it('does not replace a runner that exited after its job before JobCompleted arrived', async () => {
    const { s } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]!.name;
    await s.handleJobStarted(job('JobStarted', name));
    backend.exit(name, 0); // the job is done; GitHub's message saying so is still on its way
    await pollUntil(() => !backend.resources.has(name), { timeout: 2000, what: 'finished runner removed' });
    await s.handleDesiredRunnerCount(1); // a 202 repeats the stale assigned count
    expect(backend.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
    await s.handleJobCompleted(job('JobCompleted', name));
    await s.handleDesiredRunnerCount(0);
    expect(backend.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
  });

  it('removes a finished runner resource even when GitHub cannot deregister it, and retries the registration', async () => {
    const { s, store } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]!.name;
    registrar.failUnregister = 1;
    await s.handleJobStarted(job('JobStarted', name));
    await s.handleJobCompleted(job('JobCompleted', name));
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => !backend.resources.has(name), { timeout: 2000, what: 'container removed anyway' });
    expect(s.count('failed')).toBe(1);
    expect(registrar.registered.size).toBe(1);
    // Draining retries the registration and does not wait on it forever.
    expect(await s.drain(10_000)).toBe(0);
    await pollUntil(() => registrar.registered.size === 0, { timeout: 5000, what: 'registration retried' });
    await pollUntil(() => s.runners().length === 0, { timeout: 5000, what: 'record dropped' });
    await store.flush();
    expect(store.runners().size).toBe(0);
    // Only the registration was retried: the container was removed (and counted) once.
    expect(backend.calls.filter((c) => c === `remove ${name}`)).toHaveLength(1);
    expect(cleaned()).toEqual({ registration: 1, container: 1 });
  });

  it('keeps an idle runner when its deregistration fails during scale-down (a job may be on it)', async () => {
    const { s } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]!.name;
    registrar.failUnregister = 5;
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => registrar.calls.some((c) => c.startsWith('unregister')), { timeout: 2000 });
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'runner kept idle' });
    expect(backend.resources.has(name)).toBe(true);
  });

  it('starts no runner for a completed job while the count that still includes it is current', async () => {
    const { s } = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]?.name ?? '';
    registrar.failUnregister = 1; // the removal finishes (fails) at once, before the batch's count
    await s.handleJobStarted(job('JobStarted', name));
    await s.handleJobCompleted(job('JobCompleted', name));
    await pollUntil(() => !backend.resources.has(name), { timeout: 2000, what: 'container removed' });
    expect(backend.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
    await s.handleDesiredRunnerCount(1); // a new job: now a runner starts
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'a runner for the new job' });
    expect(backend.calls.filter((c) => c.startsWith('start'))).toHaveLength(2);
  });

  it('never exceeds max-runners, counting runners still being removed', async () => {
    const { s } = await make({ maxRunners: 2 });
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, backend.resources.size);
    }, 1);
    await s.handleDesiredRunnerCount(50);
    for (let round = 0; round < 5; round++) {
      await pollUntil(() => s.count('idle') === 2, { timeout: 2000 });
      for (const r of s.runners()) {
        await s.handleJobStarted(job('JobStarted', r.name));
        await s.handleJobCompleted(job('JobCompleted', r.name));
      }
      // Each message batch ends with GitHub's count, which no longer includes the completed jobs.
      await s.handleDesiredRunnerCount(50);
    }
    clearInterval(watch);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it('adopts running resources of a previous process and cleans exited ones', async () => {
    const first = await make();
    await first.s.handleDesiredRunnerCount(2);
    await pollUntil(() => first.s.count('idle') === 2, { timeout: 2000 });
    await first.s.stop(); // "crash": nothing removed
    const [a, b] = [...backend.resources.keys()];
    backend.exit(a!, 0);
    events = [];
    const second = await make();
    expect(emitted('runners-adopted').map((e) => e.count)).toEqual([1]);
    await pollUntil(() => !backend.resources.has(a!), { timeout: 2000, what: 'exited runner cleaned' });
    expect(second.s.runners().map((r) => r.name)).toEqual([b]);
    await pollUntil(() => cleaned().registration === 1, { timeout: 2000, what: 'its registration removed' });
    expect(cleaned()).toEqual({ registration: 1, container: 1 });
  });

  it('removes, never adopts, a resource a previous process made and never started', async () => {
    // Killed between creating the container and starting it: nobody will ever start it, so adopted as
    // idle it would hold a slot and stand in for a warm runner that never takes a job.
    const { runnerId } = await registrar.register('linux-half-0000000');
    backend.resources.set('linux-half-0000000', {
      name: 'linux-half-0000000',
      resourceId: 'res-half',
      state: 'starting',
      runnerId,
    });
    const { s } = await make({ minRunners: 1 });
    expect(emitted('runners-adopted')).toEqual([]);
    await pollUntil(() => !backend.resources.has('linux-half-0000000'), { timeout: 2000, what: 'removed' });
    expect(registrar.registered.has(runnerId)).toBe(false);
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'a warm runner of its own' });
    expect(s.runners().map((r) => r.name)).not.toContain('linux-half-0000000');
  });

  it('removes a stored registration whose resource never came up', async () => {
    const { s, store } = await make();
    const { runnerId } = await registrar.register('linux-ghost-00000000');
    store.put('linux-ghost-00000000', { runnerId, createdAt: new Date().toISOString() });
    await s.reconcile();
    expect(registrar.registered.has(runnerId)).toBe(false);
    expect(store.runners().has('linux-ghost-00000000')).toBe(false);
    expect(cleaned()).toEqual({ registration: 1 });
  });

  it('recycles idle runners past the idle timeout', async () => {
    const clock = new ManualClock(1_000_000);
    const { s } = await make({ idleTimeout: 60_000, clock });
    await s.handleDesiredRunnerCount(0);
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const first = s.runners()[0]!.name;
    clock.advance(61_000);
    await s.reconcile();
    await pollUntil(() => s.count('idle') === 1 && s.runners()[0]!.name !== first, { timeout: 2000 });
    expect(backend.resources.has(first)).toBe(false);
  });

  it('drains: idle removed, busy allowed to finish', async () => {
    const { s } = await make();
    await s.handleDesiredRunnerCount(2);
    await pollUntil(() => s.count('idle') === 2, { timeout: 2000 });
    const busy = s.runners()[0]!.name;
    await s.handleJobStarted(job('JobStarted', busy));
    const draining = s.drain(5000);
    await pollUntil(() => s.runners().length === 1, { timeout: 2000, what: 'idle runner removed' });
    expect(s.runners()[0]!.name).toBe(busy);
    backend.exit(busy, 0);
    expect(await draining).toBe(0);
    expect(backend.resources.size).toBe(0);
  });
});

describe('RunnerScaler on a clock whose timers fire early', () => {
  // Node fires a timer armed for a fractional wait up to a millisecond before Date.now() reaches its
  // target. A "not before" gate that is checked on such a wake-up, finds itself still closed and arms
  // nothing again is never opened until something else happens (the 30 s reconcile, in production).
  let dir: string;
  let backend: MemoryBackend;
  let registrar: MemoryRegistrar;
  let clock: ManualClock;
  const scalers: RunnerScaler[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scaler-early-'));
    backend = new MemoryBackend();
    registrar = new MemoryRegistrar();
    clock = new ManualClock(1_000_000, { earlyBy: 1 });
  });
  afterEach(async () => {
    for (const s of scalers.splice(0)) await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function make(over: Partial<ConstructorParameters<typeof RunnerScaler>[0]> = {}) {
    const store = await ScaleSetStore.open(dir, 'linux', () => {});
    const s = new RunnerScaler({
      scaleSet: 'linux',
      instanceId: 'inst-abcdef',
      minRunners: 0,
      maxRunners: 5,
      idleTimeout: 0,
      startConcurrency: 4,
      // Far away: only the scaler's own alarm may bring the retries these tests wait for.
      reconcileInterval: 3_600_000,
      backend,
      registrar,
      store,
      clock,
      ...over,
    });
    scalers.push(s);
    await s.start();
    return s;
  }

  const starts = () => backend.calls.filter((c) => c.startsWith('start')).length;
  /** Lets promise chains started by a timer run to their end (no time passes on the manual clock). */
  const turnsOfTheEventLoop = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('retries a failed start once its backoff has passed, and not before', async () => {
    const s = await make({ startBackoff: { initial: 1000, max: 1000 } });
    backend.failStarts = 1;
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => starts() === 1 && s.runners().length === 0, {
      timeout: 2000,
      what: 'the failed start cleaned up',
    });
    clock.advance(790); // the backoff is 1000 ms ± 20 %: at least 800
    await turnsOfTheEventLoop(5);
    expect(starts()).toBe(1);
    clock.advance(420); // past the longest backoff, in steps the early timers cut short
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'the start retried' });
    expect(starts()).toBe(2);
  });

  it('retries a failed removal after its delay, without waiting for a reconcile', async () => {
    const s = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]?.name ?? '';
    backend.failRemoves = 1;
    await s.handleJobStarted(job('JobStarted', name));
    await s.handleJobCompleted(job('JobCompleted', name));
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => s.count('failed') === 1, { timeout: 2000, what: 'the removal failed' });
    expect(backend.resources.has(name)).toBe(true);
    clock.advance(2000);
    await pollUntil(() => s.runners().length === 0, { timeout: 2000, what: 'the removal retried' });
    expect(backend.resources.has(name)).toBe(false);
  });

  it('tries a scale-down GitHub refused again after its wait, with nothing else happening', async () => {
    const s = await make();
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    registrar.failUnregister = 1;
    await s.handleDesiredRunnerCount(0);
    await pollUntil(() => registrar.calls.filter((c) => c.startsWith('unregister')).length === 1, {
      timeout: 2000,
    });
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'runner kept' });
    clock.advance(2000);
    await pollUntil(() => s.runners().length === 0, { timeout: 2000, what: 'scaled down on retry' });
  });

  it('starts a runner for a new job once the slot held for a finished job expires', async () => {
    const s = await make({ completionGraceMs: 15_000 });
    await s.handleDesiredRunnerCount(1);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000 });
    const name = s.runners()[0]?.name ?? '';
    await s.handleJobStarted(job('JobStarted', name));
    backend.exit(name, 0); // JobCompleted never comes (lost across a reconnect)
    await pollUntil(() => s.runners().length === 0, { timeout: 2000, what: 'finished runner removed' });
    await s.handleDesiredRunnerCount(1); // a new job, or the stale count: the hold covers it for now
    expect(starts()).toBe(1);
    clock.advance(15_000);
    await pollUntil(() => s.count('idle') === 1, { timeout: 2000, what: 'a runner after the hold' });
    expect(starts()).toBe(2);
  });
});
