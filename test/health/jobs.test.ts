import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../src/events.js';
import type { JobAssigned, JobAvailable, JobCompleted, JobStarted } from '../../src/github/types.js';
import { toRecord } from '../../src/health/job-record.js';
import { JobTelemetry } from '../../src/health/jobs.js';
import { EventHub } from '../../src/kernel/events.js';
import {
  assigned,
  at,
  available,
  captureLogger,
  completed,
  event,
  jobBase,
  manualClock,
  started,
  T0,
} from './fixtures.js';

const completions = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'job completed');

/** Feeds a telemetry the events of one scale set, stamped with `now()`, as the listener and scaler would. */
function feeder(t: JobTelemetry, scaleSet: string, now: () => number = () => T0) {
  const send = (ev: DaemonEvent) => t.onEvent(ev);
  return {
    available: (job: JobAvailable) => send(event('job-available', scaleSet, { job }, now())),
    assigned: (job: JobAssigned) => send(event('job-assigned', scaleSet, { job }, now())),
    started: (job: JobStarted) => send(event('job-started', scaleSet, { job }, now())),
    completed: (job: JobCompleted) => send(event('job-completed', scaleSet, { job }, now())),
    runnerUp: (runner: string, at: number) =>
      send(
        event('runner-started', scaleSet, { runner, backend: 'docker', tier: 'cold', durationMs: 1_000 }, at),
      ),
  };
}

describe('JobTelemetry', () => {
  it("names the host a job's runner ran on, in its record and its line, and no host for a runner without one", () => {
    const { logger, lines } = captureLogger();
    const t = new JobTelemetry({ logger });
    const f = feeder(t, 'linux');
    const emitUp = (runner: string, host?: string) =>
      t.onEvent(
        event(
          'runner-started',
          'linux',
          { runner, backend: 'docker', tier: 'cold', durationMs: 1_000, ...(host ? { host } : {}) },
          T0 + 1_000,
        ),
      );
    const b1 = jobBase(51, { queued: 0, assigned: 500, started: 2_000, finished: 9_000 });
    const b2 = jobBase(52, { queued: 0, assigned: 500, started: 2_000, finished: 9_000 });
    emitUp('linux-r1', 'build-2');
    emitUp('linux-r2');
    f.started(started({ ...b1, finishTime: null }, 'linux-r1'));
    f.started(started({ ...b2, finishTime: null }, 'linux-r2'));
    expect(t.recent('linux').find((j) => j.requestId === 51)?.host).toBe('build-2');
    f.completed(completed(b1, 'linux-r1', 'succeeded'));
    f.completed(completed(b2, 'linux-r2', 'succeeded'));
    const [one, two] = completions(lines());
    expect(one).toMatchObject({ requestId: 51, runner: 'linux-r1', host: 'build-2' });
    expect(two).toMatchObject({ requestId: 52, runner: 'linux-r2' });
    expect(two).not.toHaveProperty('host');
  });

  it('names the host of a runner whose job ended before its start call returned, as its backend knows it', () => {
    const { logger, lines } = captureLogger();
    const placed = new Map([['linux/linux-r3', 'build-3']]);
    const t = new JobTelemetry({ logger, hostOf: (set, runner) => placed.get(`${set}/${runner}`) });
    const f = feeder(t, 'linux');
    const b = jobBase(53, { queued: 0, assigned: 500, started: 2_000, finished: 3_000 });
    // No runner-started yet: the engine's answer to the start came after the job's end.
    f.started(started({ ...b, finishTime: null }, 'linux-r3'));
    f.completed(completed(b, 'linux-r3', 'succeeded'));
    expect(completions(lines())).toEqual([expect.objectContaining({ requestId: 53, host: 'build-3' })]);
  });

  it('builds one record per job with every gap and logs exactly one line at completion', () => {
    const { logger, lines } = captureLogger();
    const clock = manualClock(T0);
    const t = new JobTelemetry({ logger });
    // Wired as the daemon does: a listener of the event hub, beside other listeners.
    const hub = new EventHub<DaemonEvent>({ limit: 0 });
    hub.listen(t.onEvent);
    const others: string[] = [];
    hub.listen((ev) => others.push(ev.type));
    const emit = (ev: DaemonEvent) => hub.emit(ev);
    const b = jobBase(41, { queued: 0, assigned: 2_000, started: 5_000, finished: 65_000 });

    emit(
      event('job-available', 'linux', {
        job: available({ ...b, scaleSetAssignTime: null, runnerAssignTime: null, finishTime: null }),
      }),
    );
    emit(
      event('job-assigned', 'linux', { job: assigned({ ...b, runnerAssignTime: null, finishTime: null }) }),
    );
    emit(
      event(
        'runner-started',
        'linux',
        { runner: 'linux-r1', backend: 'docker', tier: 'cold', durationMs: 2_000 },
        T0 + 3_500,
      ),
    );
    emit(
      event('job-started', 'linux', { job: started({ ...b, finishTime: null }, 'linux-r1') }, clock.now()),
    );
    expect(completions(lines())).toHaveLength(0);
    emit(event('job-completed', 'linux', { job: completed(b, 'linux-r1', 'succeeded') }));
    // GitHub may deliver a message twice: the job is logged and kept once.
    emit(event('job-completed', 'linux', { job: completed(b, 'linux-r1', 'succeeded') }));
    expect(others).toHaveLength(6);

    const logged = completions(lines());
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'info',
      scaleSet: 'linux',
      runner: 'linux-r1',
      requestId: 41,
      result: 'succeeded',
      jobDisplayName: 'build (41)',
      repository: 'acme/app',
      eventName: 'push',
      queuedAt: at(0),
      assignedAt: at(2_000),
      runnerStartedAt: at(3_500),
      startedAt: at(5_000),
      completedAt: at(65_000),
      queueToAssignMs: 2_000,
      assignToRunnerMs: 1_500,
      runnerToStartMs: 1_500,
      pickupMs: 5_000,
      executionMs: 60_000,
    });

    const [record] = t.recent('linux');
    expect(t.recent('linux')).toHaveLength(1);
    expect(record).toMatchObject({
      requestId: 41,
      scaleSet: 'linux',
      runnerName: 'linux-r1',
      pickupMs: 5_000,
    });
    expect(t.recent('macos')).toEqual([]);
    // The runner is ephemeral: once its job completed it is no longer followed.
    expect(t.tracked).toEqual({ jobs: 0, runners: 0 });
  });

  it('uses the time a message arrived when the wire leaves a time unset', () => {
    const { logger, lines } = captureLogger();
    const clock = manualClock(T0);
    const t = new JobTelemetry({ logger });
    const feed = feeder(t, 'linux', clock.now);
    const b = jobBase(7, {});
    feed.available(available(b));
    clock.advance(1_000);
    feed.assigned(assigned(b));
    clock.advance(4_000);
    feed.started(started(b, 'r'));
    clock.advance(20_000);
    feed.completed(completed(b, 'r', 'failed'));
    expect(completions(lines())[0]).toMatchObject({
      queueToAssignMs: 1_000,
      pickupMs: 5_000,
      executionMs: 20_000,
    });
  });

  it('a warm runner up before the job: the job waited for no runner, and the gaps add up to the pickup', () => {
    const { logger } = captureLogger();
    const t = new JobTelemetry({ logger });
    const feed = feeder(t, 'linux');
    feed.runnerUp('warm-1', T0 - 30_000);
    const b = jobBase(8, { queued: 0, assigned: 100, started: 600, finished: 10_000 });
    feed.started(started(b, 'warm-1'));
    feed.completed(completed(b, 'warm-1'));
    expect(t.recent()[0]).toMatchObject({
      runnerStartedAt: at(-30_000),
      queueToAssignMs: 100,
      assignToRunnerMs: 0,
      runnerToStartMs: 500,
      pickupMs: 600,
    });
  });

  it('a runner reported up after its job started (start() returned late): no negative gap', () => {
    const { logger, lines } = captureLogger();
    const t = new JobTelemetry({ logger });
    const feed = feeder(t, 'linux');
    const b = jobBase(10, { queued: 0, assigned: 200, started: 3_000, finished: 9_000 });
    feed.available(available({ ...b, runnerAssignTime: null, finishTime: null }));
    feed.assigned(assigned({ ...b, runnerAssignTime: null, finishTime: null }));
    // The runner connected and took the job 7 ms before the backend's start call returned.
    feed.runnerUp('r-late', T0 + 3_007);
    feed.started(started({ ...b, finishTime: null }, 'r-late'));
    feed.completed(completed(b, 'r-late', 'succeeded'));
    expect(completions(lines())[0]).toMatchObject({
      state: 'succeeded',
      runnerStartedAt: at(3_000),
      queueToAssignMs: 200,
      assignToRunnerMs: 2_800,
      runnerToStartMs: 0,
      pickupMs: 3_000,
      executionMs: 6_000,
    });
  });

  it('gaps are never negative, and the pickup gaps add up, whatever order the times arrive in', () => {
    const stage = fc.option(fc.integer({ min: -60_000, max: 60_000 }), { nil: undefined });
    fc.assert(
      fc.property(stage, stage, stage, stage, stage, (queued, assigned, runner, started, completed) => {
        const record = toRecord({
          requestId: 1,
          scaleSet: 's',
          touched: 0,
          queued,
          assigned,
          runnerStarted: runner,
          started,
          completed,
        });
        const gaps = [
          record.queueToAssignMs,
          record.assignToRunnerMs,
          record.runnerToStartMs,
          record.pickupMs,
          record.executionMs,
        ];
        for (const g of gaps) if (g !== undefined) expect(g).toBeGreaterThanOrEqual(0);
        const { queueToAssignMs: a, assignToRunnerMs: b, runnerToStartMs: c, pickupMs } = record;
        if (a !== undefined && b !== undefined && c !== undefined) expect(a + b + c).toBe(pickupMs);
      }),
    );
  });

  it('states a job as the dashboard and runner status show it: queued, running, then its result', () => {
    const { logger } = captureLogger();
    const t = new JobTelemetry({ logger });
    const feed = feeder(t, 'linux');
    const b = jobBase(11, { queued: 0, assigned: 100, started: 900, finished: 5_000 });
    feed.available(available({ ...b, scaleSetAssignTime: null, runnerAssignTime: null, finishTime: null }));
    expect(t.recent()[0]?.state).toBe('queued');
    feed.assigned(assigned({ ...b, runnerAssignTime: null, finishTime: null }));
    expect(t.recent()[0]?.state).toBe('queued');
    feed.started(started({ ...b, finishTime: null }, 'r'));
    expect(t.recent()[0]?.state).toBe('running');
    feed.completed(completed(b, 'r', 'cancelled'));
    expect(t.recent()[0]?.state).toBe('cancelled');
  });

  it('logs a job cancelled while queued once, with only the gaps it has', () => {
    const { logger, lines } = captureLogger();
    const t = new JobTelemetry({ logger });
    const feed = feeder(t, 'linux');
    const b = jobBase(9, { queued: 0, finished: 3_000 });
    feed.available(available({ ...b, finishTime: null }));
    feed.completed(completed(b, '', 'canceled'));
    const [line] = completions(lines());
    expect(completions(lines())).toHaveLength(1);
    expect(line).toMatchObject({ requestId: 9, result: 'canceled', queuedAt: at(0), completedAt: at(3_000) });
    expect(line).not.toHaveProperty('pickupMs');
    expect(line).not.toHaveProperty('runner');
  });

  it('lists jobs in flight first, newest first, and keeps only the last N finished', () => {
    const { logger } = captureLogger();
    const t = new JobTelemetry({ logger, keep: 3 });
    const linux = feeder(t, 'linux');
    const macos = feeder(t, 'macos');
    for (let id = 1; id <= 5; id++) {
      const b = jobBase(id, {
        queued: id * 1_000,
        assigned: id * 1_000,
        started: id * 1_000 + 500,
        finished: 90_000,
      });
      linux.started(started(b, `r${id}`));
      linux.completed(completed(b, `r${id}`));
    }
    linux.available(available(jobBase(6, { queued: 100_000 })));
    macos.available(available(jobBase(7, { queued: 110_000 })));
    linux.available(available(jobBase(8, { queued: 120_000 })));

    expect(t.recent('linux').map((r) => r.requestId)).toEqual([8, 6, 5]);
    expect(t.recent().map((r) => r.requestId)).toEqual([8, 7, 6]);
    expect(t.recent('linux')[0]).toMatchObject({ queuedAt: at(120_000), completedAt: undefined });
  });

  it('drops unfinished jobs and unclaimed runners after the TTL, and caps what it follows', () => {
    const { logger, lines } = captureLogger();
    const clock = manualClock(T0);
    const t = new JobTelemetry({ logger, staleAfterMs: 3_600_000, maxTracked: 10 });
    const feed = feeder(t, 'linux', clock.now);
    feed.available(available(jobBase(1, { queued: 0 })));
    feed.runnerUp('orphan', T0);
    expect(t.tracked).toEqual({ jobs: 1, runners: 1 });

    clock.advance(3_600_001);
    feed.available(available(jobBase(2, { queued: 3_600_001 })));
    expect(t.tracked).toEqual({ jobs: 1, runners: 0 });
    expect(t.recent().map((r) => r.requestId)).toEqual([2]);
    expect(
      lines().some((l) => l.msg === 'dropped unfinished job records with no news' && l.dropped === 1),
    ).toBe(true);

    for (let id = 100; id < 150; id++) feed.available(available(jobBase(id, { queued: 3_600_001 + id })));
    expect(t.tracked.jobs).toBeLessThanOrEqual(10);
    // The newest are kept: eviction is oldest first.
    expect(t.recent()[0]?.requestId).toBe(149);
  });
});
