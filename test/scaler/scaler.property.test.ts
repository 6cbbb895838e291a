import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JobCompleted, JobStarted } from '../../src/github/types.js';
import { RunnerScaler } from '../../src/scaler/scaler.js';
import { ScaleSetStore } from '../../src/state/scale-set-store.js';
import { ManualClock } from '../support/manual-clock.js';
import { World } from './world.js';

/**
 * Properties of the scaler as a whole (the real RunnerScaler, its pure lifecycle and plan inside),
 * against a world whose answers fast-check orders and whose faults it chooses:
 * - live + removing never exceeds max-runners (the world counts runners holding a registration or a
 *   resource at every change);
 * - a busy runner is never removed by scale-down (the world flags a removal of a runner with a job);
 * - every registration is eventually used or removed, and nothing is left once the work stops;
 * - a failed start is always retried within its backoff, on a clock whose timers fire early.
 */

const MAX = 3;

const jobMessage = (runnerName: string, id: number) => ({
  runnerRequestId: id,
  repositoryName: 'r',
  ownerName: 'o',
  jobId: `j${id}`,
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
});
const started = (name: string, id: number) =>
  ({ ...jobMessage(name, id), messageType: 'JobStarted' }) as JobStarted;
const completed = (name: string, id: number) =>
  ({ ...jobMessage(name, id), messageType: 'JobCompleted', result: 'succeeded' }) as JobCompleted;

type Command =
  | { kind: 'desired'; n: number }
  | { kind: 'assign'; i: number }
  | { kind: 'notify'; i: number }
  | { kind: 'finish'; i: number }
  | { kind: 'complete'; i: number }
  | { kind: 'die'; i: number }
  | { kind: 'fault'; what: 'start' | 'capacity' | 'deregister' | 'remove'; n: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'step'; n: number }
  | { kind: 'settle' }
  | { kind: 'reconcile' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('desired' as const), n: fc.integer({ min: 0, max: MAX + 2 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('assign' as const), i: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('notify' as const), i: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('finish' as const), i: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('complete' as const), i: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('die' as const), i: fc.nat(3) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      what: fc.constantFrom('start' as const, 'capacity' as const, 'deregister' as const, 'remove' as const),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 70_000 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('step' as const), n: fc.integer({ min: 1, max: 6 }) }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconcile' as const }) },
);

async function withScaler<T>(
  s: fc.Scheduler,
  clock: ManualClock,
  opts: { startBackoff: { initial: number; max: number } },
  run: (scaler: RunnerScaler, world: World) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'scaler-prop-'));
  const world = new World(s, MAX);
  const store = await ScaleSetStore.open(dir, 'prop', () => {});
  const scaler = new RunnerScaler({
    scaleSet: 'prop',
    instanceId: 'inst-prop00',
    minRunners: 0,
    maxRunners: MAX,
    idleTimeout: 0,
    startConcurrency: 2,
    reconcileInterval: 3_600_000,
    backend: world.backend,
    registrar: world.registrar,
    store,
    clock,
    completionGraceMs: 15_000,
    startBackoff: opts.startBackoff,
  });
  try {
    await scaler.start();
    return await run(scaler, world);
  } finally {
    await s.waitIdle();
    await scaler.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Plays `commands` against a scaler and a world, then stops the work and lets everything settle. The
 * world records every violation of an invariant as it happens.
 */
async function play(s: fc.Scheduler, commands: readonly Command[]): Promise<void> {
  const clock = new ManualClock(1_000_000, { earlyBy: 1 });
  await withScaler(s, clock, { startBackoff: { initial: 1000, max: 8000 } }, async (scaler, world) => {
    let jobId = 0;
    const jobOf = new Map<string, number>();
    /** Runners GitHub gave a job whose JobStarted has not reached the scaler yet. */
    const toNotify: string[] = [];
    /** Runners whose job finished but whose JobCompleted was not sent yet. */
    const toComplete: string[] = [];
    const pick = <T>(list: readonly T[], i: number): T | undefined => list[i % Math.max(1, list.length)];
    const take = (list: string[], i: number): string | undefined =>
      list.splice(i % Math.max(1, list.length), 1)[0];
    // GitHub gives a job to any registered runner that is up, whatever the scaler is doing with it (a
    // scale-down may be on its way): the scaler hears of it only with a later message.
    const upAndFree = () =>
      [...world.resources]
        .filter(([name, st]) => st === 'running' && world.idOf(name) !== undefined)
        .map(([name]) => name)
        .filter((name) => !world.runningJobs().includes(name));
    const notify = (name: string) => scaler.handleJobStarted(started(name, jobOf.get(name) ?? 0));
    const complete = async (name: string) => {
      // Messages come in order: a job's JobStarted before its JobCompleted.
      const i = toNotify.indexOf(name);
      if (i >= 0) await notify(toNotify.splice(i, 1)[0] ?? name);
      await scaler.handleJobCompleted(completed(name, jobOf.get(name) ?? 0));
    };

    for (const c of commands) {
      switch (c.kind) {
        case 'desired':
          await scaler.handleDesiredRunnerCount(c.n);
          break;
        case 'assign': {
          const name = pick(upAndFree(), c.i);
          if (name && world.assignJob(name)) {
            jobOf.set(name, ++jobId);
            toNotify.push(name);
          }
          break;
        }
        case 'notify': {
          const name = take(toNotify, c.i);
          if (name) await notify(name);
          break;
        }
        case 'finish': {
          const name = pick(world.runningJobs(), c.i);
          if (name && world.finishJob(name)) toComplete.push(name);
          break;
        }
        case 'complete': {
          const name = take(toComplete, c.i);
          if (name) await complete(name);
          break;
        }
        case 'die': {
          const running = [...world.resources].filter(([, st]) => st === 'running').map(([n]) => n);
          const name = pick(running, c.i);
          if (name) world.exit(name, 137);
          break;
        }
        case 'fault':
          world.faults[c.what] += c.n;
          break;
        case 'tick':
          clock.advance(c.ms);
          break;
        case 'step':
          await s.waitNext(Math.min(c.n, s.count()));
          break;
        case 'settle':
          await s.waitIdle();
          break;
        case 'reconcile':
          await s.waitFor(scaler.reconcile());
          break;
      }
      expect(world.violations).toEqual([]);
    }

    // The work stops: no more faults, every job finishes and is reported, no job is queued.
    world.faults = { start: 0, capacity: 0, deregister: 0, remove: 0 };
    await s.waitIdle();
    for (const name of toNotify.splice(0)) await notify(name);
    for (const name of world.runningJobs()) if (world.finishJob(name)) toComplete.push(name);
    for (const name of toComplete.splice(0)) await complete(name);
    await scaler.handleDesiredRunnerCount(0);
    for (let round = 0; round < 10 && (world.held() > 0 || scaler.runners().length > 0); round++) {
      await s.waitIdle();
      clock.advance(61_000); // longer than any retry, hold or backoff
      await s.waitIdle();
      await s.waitFor(scaler.reconcile());
    }
    expect({
      violations: world.violations,
      registrations: [...world.registrations.values()].map((r) => r.name),
      resources: [...world.resources.keys()],
      records: scaler.runners().map((r) => `${r.name} ${r.state}`),
    }).toEqual({ violations: [], registrations: [], resources: [], records: [] });
  });
}

describe('RunnerScaler properties', () => {
  it('never exceeds max-runners, never removes a busy runner, and leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(command, { minLength: 20, maxLength: 80, size: 'max' }),
        play,
      ),
      { numRuns: 150 },
    );
  });

  it('a scale-down racing a job GitHub just assigned keeps the runner (a fixed interleaving)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), (s) =>
        play(s, [
          { kind: 'desired', n: 2 },
          { kind: 'settle' },
          { kind: 'assign', i: 0 },
          { kind: 'desired', n: 0 },
          { kind: 'settle' },
          { kind: 'notify', i: 0 },
          { kind: 'finish', i: 0 },
          { kind: 'complete', i: 0 },
        ]),
      ),
      { numRuns: 20 },
    );
  });

  it('retries failed starts within the backoff until the target is reached', async () => {
    const backoff = { initial: 100, max: 400 };
    // The longest wait a failed start can cause: the cap plus its jitter (±20 %).
    const longest = backoff.max * 1.2;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: MAX }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        async (s, target, failures, capacity) => {
          const clock = new ManualClock(1_000_000, { earlyBy: 1 });
          await withScaler(s, clock, { startBackoff: backoff }, async (scaler, world) => {
            world.faults[capacity ? 'capacity' : 'start'] = failures;
            await scaler.handleDesiredRunnerCount(target);
            const running = () => [...world.resources.values()].filter((st) => st === 'running').length;
            const attempts = () => world.log.filter((l) => l.startsWith('start')).length;
            // Every round ends with all calls answered and no time passed: what is left is waiting for
            // the start gate. Within one longest backoff, a new attempt must come.
            for (let round = 0; round <= failures && running() < target; round++) {
              await s.waitIdle();
              if (running() >= target) break;
              const before = attempts();
              clock.advance(Math.ceil(longest) + 1);
              await s.waitIdle();
              expect(attempts()).toBeGreaterThan(before);
            }
            await s.waitIdle();
            expect(running()).toBe(target);
            expect(world.violations).toEqual([]);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
