import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { DaemonEvent } from '../../src/events.js';
import { createMetrics, MAX_JOB_SERIES } from '../../src/health/metrics.js';
import { GiB, threeHosts } from '../hosts/fixtures.js';
import { at, completed, counts, daemonStatus, event, jobBase, scaleSet, started, stats } from './fixtures.js';
import { parseExposition, select, value } from './prom-text.js';

const ARC_GAUGES = [
  'gha_assigned_jobs',
  'gha_running_jobs',
  'gha_registered_runners',
  'gha_busy_runners',
  'gha_idle_runners',
  'gha_desired_runners',
  'gha_min_runners',
  'gha_max_runners',
];

function snapshot() {
  return daemonStatus([
    scaleSet({
      name: 'linux',
      desiredRunners: 3,
      minRunners: 1,
      maxRunners: 5,
      lastPollAt: at(42_500),
      statistics: stats({
        totalAssignedJobs: 4,
        totalRunningJobs: 2,
        totalRegisteredRunners: 3,
        totalBusyRunners: 2,
        totalIdleRunners: 1,
      }),
      runnerCounts: counts({ creating: 1, idle: 1, busy: 2 }),
      pool: { warm: 2, sleeping: 3 },
    }),
    // Never had a session: statistics and poll time unknown.
    scaleSet({ name: 'macos', backend: 'tart', phase: 'starting', healthy: false, maxRunners: 2 }),
  ]);
}

/** A known sequence of events, as the listener, supervisor and scaler would emit them. */
function replay(emit: (ev: DaemonEvent) => void) {
  const j1 = jobBase(1, { queued: 0, assigned: 2_000, started: 5_000, finished: 65_000 });
  const j2 = jobBase(
    2,
    { queued: 0, assigned: 0, started: 12_000, finished: 42_000 },
    { eventName: 'pull_request' },
  );
  const j3 = jobBase(3, { queued: 0, assigned: null, started: 9_000 });
  emit(event('job-started', 'linux', { job: started(j1, 'r1') }));
  emit(event('job-started', 'linux', { job: started(j2, 'r2') }));
  emit(event('job-started', 'linux', { job: started(j3, 'r3') }));
  emit(event('job-completed', 'linux', { job: completed(j1, 'r1', 'succeeded') }));
  emit(event('job-completed', 'linux', { job: completed(j2, 'r2', 'failed') }));
  const reconnect = (reason: 'session-error' | 'session-conflict') =>
    emit(event('listener-reconnect', 'linux', { reason, detail: 'x' }));
  reconnect('session-error');
  reconnect('session-error');
  reconnect('session-conflict');
  const up = (tier: 'cold' | 'warm' | 'woken', durationMs: number) =>
    emit(event('runner-started', 'linux', { runner: 'r', backend: 'docker', tier, durationMs }));
  up('cold', 4_200);
  up('warm', 300);
  up('woken', 1_500);
  up('cold', 5_800);
  const failed = (scaleSet: string, backend: string, reason: string) =>
    emit(event('runner-start-failed', scaleSet, { runner: 'r', backend, reason }));
  failed('linux', 'docker', 'capacity');
  failed('linux', 'docker', 'capacity');
  failed('macos', 'tart', 'TART_CLONE_FAILED');
  emit(event('runners-adopted', 'linux', { count: 2 }));
  for (let i = 0; i < 3; i++) emit(event('cleaned-up', 'linux', { kind: 'container', count: 1 }));
  emit(event('cleaned-up', 'linux', { kind: 'registration', count: 1 }));
  emit(event('cleaned-up', 'linux', { kind: 'session', count: 2 }));
  // Events whose data the gauges take from the snapshot instead: must not create series of their own.
  emit(event('statistics', 'linux', { stats: stats({ totalAssignedJobs: 99 }) }));
  emit(event('desired-runners', 'linux', { count: 99 }));
  emit(event('poll-succeeded', 'linux', {}));
  // Nor do the job messages the metrics have no counter for.
  const j4 = jobBase(4, { queued: 0 });
  emit(event('job-available', 'linux', { job: { ...j4, messageType: 'JobAvailable', acquireJobUrl: 'x' } }));
  emit(event('job-assigned', 'linux', { job: { ...j4, messageType: 'JobAssigned' } }));
}

describe('metrics', () => {
  it('exposes every metric with the values of a known sequence and snapshot', async () => {
    const metrics = createMetrics();
    replay(metrics.onEvent);
    const e = parseExposition(await metrics.scrape(snapshot()));

    const linux = { name: 'linux' };
    expect(ARC_GAUGES.map((g) => e.types.get(g))).toEqual(ARC_GAUGES.map(() => 'gauge'));
    expect(value(e, 'gha_assigned_jobs', linux)).toBe(4);
    expect(value(e, 'gha_running_jobs', linux)).toBe(2);
    expect(value(e, 'gha_registered_runners', linux)).toBe(3);
    expect(value(e, 'gha_busy_runners', linux)).toBe(2);
    expect(value(e, 'gha_idle_runners', linux)).toBe(1);
    expect(value(e, 'gha_desired_runners', linux)).toBe(3);
    expect(value(e, 'gha_min_runners', linux)).toBe(1);
    expect(value(e, 'gha_max_runners', linux)).toBe(5);
    // macos has static config but no statistics yet: limits present, statistics absent (not a fake 0).
    expect(value(e, 'gha_max_runners', { name: 'macos' })).toBe(2);
    expect(select(e, 'gha_assigned_jobs', { name: 'macos' })).toEqual([]);

    const job = {
      name: 'linux',
      repository: 'app',
      organization: 'acme',
      job_name: 'build (1)',
      event_name: 'push',
    };
    expect(e.types.get('gha_started_jobs_total')).toBe('counter');
    expect(value(e, 'gha_started_jobs_total', job)).toBe(1);
    expect(select(e, 'gha_started_jobs_total').reduce((a, s) => a + s.value, 0)).toBe(3);
    expect(value(e, 'gha_completed_jobs_total', { ...job, job_result: 'succeeded' })).toBe(1);
    expect(value(e, 'gha_completed_jobs_total', { job_name: 'build (2)', event_name: 'pull_request' })).toBe(
      1,
    );
    expect(select(e, 'gha_completed_jobs_total', { job_result: 'failed' })).toHaveLength(1);

    // Startup = runnerAssignTime − scaleSetAssignTime; job 3 had no scale-set assign time: not observed.
    expect(e.types.get('gha_job_startup_duration_seconds')).toBe('histogram');
    expect(value(e, 'gha_job_startup_duration_seconds_sum', job)).toBe(3);
    const startupCount = select(e, 'gha_job_startup_duration_seconds_count');
    expect(startupCount.reduce((a, s) => a + s.value, 0)).toBe(2);
    expect(value(e, 'gha_job_startup_duration_seconds_sum', { job_name: 'build (2)' })).toBe(12);
    expect(value(e, 'gha_job_startup_duration_seconds_bucket', { ...job, le: '3' })).toBe(1);
    expect(value(e, 'gha_job_startup_duration_seconds_bucket', { ...job, le: '2' })).toBe(0);
    // Execution = finishTime − runnerAssignTime.
    expect(value(e, 'gha_job_execution_duration_seconds_sum', { ...job, job_result: 'succeeded' })).toBe(60);
    expect(
      value(e, 'gha_job_execution_duration_seconds_sum', { job_name: 'build (2)', job_result: 'failed' }),
    ).toBe(30);

    const set = { scale_set: 'linux' };
    const cold = { ...set, backend: 'docker', tier: 'cold' };
    expect(value(e, 'runner_start_duration_seconds_count', cold)).toBe(2);
    expect(value(e, 'runner_start_duration_seconds_sum', cold)).toBeCloseTo(10);
    expect(value(e, 'runner_start_duration_seconds_bucket', { ...cold, le: '5' })).toBe(1);
    expect(value(e, 'runner_start_duration_seconds_sum', { ...set, tier: 'warm' })).toBeCloseTo(0.3);
    expect(value(e, 'runner_start_duration_seconds_sum', { ...set, tier: 'woken' })).toBeCloseTo(1.5);
    expect(value(e, 'runner_start_failures_total', { ...set, backend: 'docker', reason: 'capacity' })).toBe(
      2,
    );
    expect(value(e, 'runner_start_failures_total', { scale_set: 'macos', reason: 'TART_CLONE_FAILED' })).toBe(
      1,
    );
    expect(value(e, 'runner_listener_reconnects_total', { ...set, reason: 'session-error' })).toBe(2);
    expect(value(e, 'runner_listener_reconnects_total', { ...set, reason: 'session-conflict' })).toBe(1);
    expect(value(e, 'runner_adopted_total', set)).toBe(2);
    expect(value(e, 'runner_adopted_total', { scale_set: 'macos' })).toBe(0);
    expect(value(e, 'runner_cleaned_up_total', { ...set, kind: 'container' })).toBe(3);
    expect(value(e, 'runner_cleaned_up_total', { ...set, kind: 'registration' })).toBe(1);
    expect(value(e, 'runner_cleaned_up_total', { ...set, kind: 'session' })).toBe(2);

    expect(value(e, 'runner_pool_size', { ...set, tier: 'warm' })).toBe(2);
    expect(value(e, 'runner_pool_size', { ...set, tier: 'sleeping' })).toBe(3);
    expect(value(e, 'runner_runners', { ...set, state: 'busy' })).toBe(2);
    expect(value(e, 'runner_runners', { ...set, state: 'creating' })).toBe(1);
    expect(value(e, 'runner_runners', { ...set, state: 'failed' })).toBe(0);
    expect(select(e, 'runner_runners', set)).toHaveLength(6);
    expect(value(e, 'runner_last_successful_poll_timestamp_seconds', set)).toBe(
      Date.parse(at(42_500)) / 1000,
    );
    expect(select(e, 'runner_last_successful_poll_timestamp_seconds', { scale_set: 'macos' })).toEqual([]);
  });

  it('rebuilds snapshot gauges on every scrape, so vanished tiers and scale sets disappear', async () => {
    const metrics = createMetrics();
    const first = parseExposition(await metrics.scrape(snapshot()));
    expect(value(first, 'runner_pool_size', { scale_set: 'linux', tier: 'sleeping' })).toBe(3);

    const next = snapshot();
    next.scaleSets = [{ ...next.scaleSets[0]!, pool: { warm: 1 }, desiredRunners: 0 }];
    const e = parseExposition(await metrics.scrape(next));
    expect(select(e, 'runner_pool_size', { tier: 'sleeping' })).toEqual([]);
    expect(value(e, 'runner_pool_size', { scale_set: 'linux', tier: 'warm' })).toBe(1);
    expect(value(e, 'gha_desired_runners', { name: 'linux' })).toBe(0);
    expect(select(e, 'gha_max_runners', { name: 'macos' })).toEqual([]);
  });

  it('keeps its own registry: two instances coexist and the global registry stays empty', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.onEvent(event('runners-adopted', 'linux', { count: 1 }));
    expect(await b.registry.getSingleMetricAsString('runner_adopted_total')).not.toContain('linux');
    expect(await globalRegistry.metrics()).not.toContain('gha_');
    expect(a.contentType).toMatch(/^text\/plain/);
  });

  it('bounds free-text label values', async () => {
    const metrics = createMetrics();
    metrics.onEvent(
      event('runner-start-failed', 'linux', { runner: 'r', backend: 'docker', reason: 'x'.repeat(500) }),
    );
    const e = parseExposition(await metrics.registry.metrics());
    const [sample] = select(e, 'runner_start_failures_total');
    expect(sample?.labels.reason).toHaveLength(64);
  });

  it('folds job label sets past MAX_JOB_SERIES into job_name="other", keeping every job counted', async () => {
    const metrics = createMetrics();
    const jobs = MAX_JOB_SERIES + 50;
    for (let i = 1; i <= jobs; i++) {
      const j = jobBase(i, { queued: 0, assigned: 0, started: 1_000, finished: 2_000 });
      metrics.onEvent(event('job-started', 'linux', { job: started(j, `r${i}`) }));
      metrics.onEvent(event('job-completed', 'linux', { job: completed(j, `r${i}`, 'succeeded') }));
    }
    // A label set seen before the cap keeps its own series.
    const first = jobBase(1, { queued: 0, assigned: 0, started: 1_000 });
    metrics.onEvent(event('job-started', 'linux', { job: started(first, 'r1') }));
    const e = parseExposition(await metrics.registry.metrics());
    const startedSeries = select(e, 'gha_started_jobs_total');
    expect(startedSeries).toHaveLength(MAX_JOB_SERIES + 1);
    expect(startedSeries.find((x) => x.labels.job_name === 'other')?.value).toBe(50);
    expect(startedSeries.find((x) => x.labels.job_name === 'build (1)')?.value).toBe(2);
    const total = startedSeries.reduce((n, x) => n + x.value, 0);
    expect(total).toBe(jobs + 1);
    expect(select(e, 'gha_completed_jobs_total')).toHaveLength(MAX_JOB_SERIES + 1);
  });
});

describe('host gauges', () => {
  it('one series per host: up, cordoned, and runners, CPUs and memory in use and budget (no budget series without one)', async () => {
    const m = createMetrics();
    const e = parseExposition(
      await m.scrape(daemonStatus([scaleSet({ name: 'linux' })], { hosts: threeHosts() })),
    );
    expect(['build-1', 'build-2', 'build-3'].map((host) => value(e, 'runner_host_up', { host }))).toEqual([
      1, 1, 0,
    ]);
    expect(
      ['build-1', 'build-2', 'build-3'].map((host) => value(e, 'runner_host_cordoned', { host })),
    ).toEqual([0, 1, 0]);
    expect(value(e, 'runner_host_runners', { host: 'build-1', kind: 'used' })).toBe(3);
    expect(value(e, 'runner_host_runners', { host: 'build-1', kind: 'budget' })).toBe(8);
    expect(value(e, 'runner_host_cpus', { host: 'build-1', kind: 'used' })).toBe(4.5);
    expect(value(e, 'runner_host_memory_bytes', { host: 'build-1', kind: 'budget' })).toBe(64 * GiB);
    // No max-runners: no count budget; a size not reported yet: no CPU or memory budget.
    expect(select(e, 'runner_host_runners', { host: 'build-2', kind: 'budget' })).toEqual([]);
    expect(select(e, 'runner_host_cpus', { host: 'build-3', kind: 'budget' })).toEqual([]);
    expect(select(e, 'runner_host_memory_bytes', { host: 'build-3', kind: 'budget' })).toEqual([]);
    expect(value(e, 'runner_host_memory_bytes', { host: 'build-3', kind: 'used' })).toBe(0);
    // A host gone from the status leaves no series behind.
    const after = parseExposition(await m.scrape(daemonStatus([scaleSet({ name: 'linux' })])));
    expect(select(after, 'runner_host_up')).toEqual([]);
  });
});
