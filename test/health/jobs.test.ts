import { describe, expect, it } from 'vitest';
import { JobTelemetry } from '../../src/health/jobs.js';
import { fanOut } from '../../src/health/recorder.js';
import {
  assigned,
  at,
  available,
  captureLogger,
  completed,
  jobBase,
  manualClock,
  started,
  T0,
} from './fixtures.js';

const completions = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'job completed');

describe('JobTelemetry', () => {
  it('builds one record per job with every gap and logs exactly one line at completion', () => {
    const { logger, lines } = captureLogger();
    const clock = manualClock(T0);
    const t = new JobTelemetry({ logger, now: clock.now });
    // Wired as the daemon does: the listener's observer and the recorder both see started/completed.
    const obs = t.observer('linux');
    const rec = fanOut(t.recorder);
    const b = jobBase(41, { queued: 0, assigned: 2_000, started: 5_000, finished: 65_000 });

    obs.jobAvailable?.(
      available({ ...b, scaleSetAssignTime: null, runnerAssignTime: null, finishTime: null }),
    );
    obs.jobAssigned?.(assigned({ ...b, runnerAssignTime: null, finishTime: null }));
    t.runnerStarted('linux', 'linux-r1', T0 + 3_500);
    obs.jobStarted?.(started({ ...b, finishTime: null }, 'linux-r1'));
    rec.jobStarted('linux', started({ ...b, finishTime: null }, 'linux-r1'));
    expect(completions(lines())).toHaveLength(0);
    obs.jobCompleted?.(completed(b, 'linux-r1', 'succeeded'));
    rec.jobCompleted('linux', completed(b, 'linux-r1', 'succeeded'));

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
    const t = new JobTelemetry({ logger, now: clock.now });
    const b = jobBase(7, {});
    t.jobAvailable('linux', available(b));
    clock.advance(1_000);
    t.jobAssigned('linux', assigned(b));
    clock.advance(4_000);
    t.jobStarted('linux', started(b, 'r'));
    clock.advance(20_000);
    t.jobCompleted('linux', completed(b, 'r', 'failed'));
    expect(completions(lines())[0]).toMatchObject({
      queueToAssignMs: 1_000,
      pickupMs: 5_000,
      executionMs: 20_000,
    });
  });

  it('shows a negative assign→runner gap when a warm runner was up before the job', () => {
    const { logger } = captureLogger();
    const t = new JobTelemetry({ logger, now: () => T0 });
    t.runnerStarted('linux', 'warm-1', T0 - 30_000);
    const b = jobBase(8, { queued: 0, assigned: 100, started: 600, finished: 10_000 });
    t.jobStarted('linux', started(b, 'warm-1'));
    t.jobCompleted('linux', completed(b, 'warm-1'));
    expect(t.recent()[0]).toMatchObject({
      assignToRunnerMs: -30_100,
      runnerToStartMs: 30_600,
      pickupMs: 600,
    });
  });

  it('logs a job cancelled while queued once, with only the gaps it has', () => {
    const { logger, lines } = captureLogger();
    const t = new JobTelemetry({ logger, now: () => T0 });
    const b = jobBase(9, { queued: 0, finished: 3_000 });
    t.jobAvailable('linux', available({ ...b, finishTime: null }));
    t.jobCompleted('linux', completed(b, '', 'canceled'));
    const [line] = completions(lines());
    expect(completions(lines())).toHaveLength(1);
    expect(line).toMatchObject({ requestId: 9, result: 'canceled', queuedAt: at(0), completedAt: at(3_000) });
    expect(line).not.toHaveProperty('pickupMs');
    expect(line).not.toHaveProperty('runner');
  });

  it('lists jobs in flight first, newest first, and keeps only the last N finished', () => {
    const { logger } = captureLogger();
    const t = new JobTelemetry({ logger, keep: 3, now: () => T0 });
    for (let id = 1; id <= 5; id++) {
      const b = jobBase(id, {
        queued: id * 1_000,
        assigned: id * 1_000,
        started: id * 1_000 + 500,
        finished: 90_000,
      });
      t.jobStarted('linux', started(b, `r${id}`));
      t.jobCompleted('linux', completed(b, `r${id}`));
    }
    t.jobAvailable('linux', available(jobBase(6, { queued: 100_000 })));
    t.jobAvailable('macos', available(jobBase(7, { queued: 110_000 })));
    t.jobAvailable('linux', available(jobBase(8, { queued: 120_000 })));

    expect(t.recent('linux').map((r) => r.requestId)).toEqual([8, 6, 5]);
    expect(t.recent().map((r) => r.requestId)).toEqual([8, 7, 6]);
    expect(t.recent('linux')[0]).toMatchObject({ queuedAt: at(120_000), completedAt: undefined });
  });

  it('drops unfinished jobs and unclaimed runners after the TTL, and caps what it follows', () => {
    const { logger, lines } = captureLogger();
    const clock = manualClock(T0);
    const t = new JobTelemetry({ logger, staleAfterMs: 3_600_000, maxTracked: 10, now: clock.now });
    t.jobAvailable('linux', available(jobBase(1, { queued: 0 })));
    t.runnerStarted('linux', 'orphan', T0);
    expect(t.tracked).toEqual({ jobs: 1, runners: 1 });

    clock.advance(3_600_001);
    t.jobAvailable('linux', available(jobBase(2, { queued: 3_600_001 })));
    expect(t.tracked).toEqual({ jobs: 1, runners: 0 });
    expect(t.recent().map((r) => r.requestId)).toEqual([2]);
    expect(
      lines().some((l) => l.msg === 'dropped unfinished job records with no news' && l.dropped === 1),
    ).toBe(true);

    for (let id = 100; id < 150; id++)
      t.jobAvailable('linux', available(jobBase(id, { queued: 3_600_001 + id })));
    expect(t.tracked.jobs).toBeLessThanOrEqual(10);
    // The newest are kept: eviction is oldest first.
    expect(t.recent()[0]?.requestId).toBe(149);
  });
});
