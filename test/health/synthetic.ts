import { JobTelemetry } from '../../src/health/jobs.js';
import type { DaemonStatus, HostStatus, RunnerStatus } from '../../src/health/status-types.js';
import { silentLogger } from '../../src/log.js';
import { counts, event, scaleSet, stats } from './fixtures.js';

const iso = (ms: number) => new Date(ms).toISOString();

interface JobPlan {
  set: string;
  id: number;
  name: string;
  repo: string;
  /** Offsets in ms from `now`; undefined = not reached yet. */
  queued: number;
  pickup?: number;
  run?: number;
  result?: string;
}

/**
 * A daemon state with history, around the real clock (the page computes "ago" from its own clock):
 * jobs go through a real JobTelemetry, so the dashboard renders records built the way production
 * builds them.
 */
export function syntheticDaemon(now = Date.now()) {
  const telemetry = new JobTelemetry({ logger: silentLogger });
  const plans: JobPlan[] = [];
  const pickups = [
    4_200, 3_100, 5_800, 2_900, 61_000, 3_600, 4_900, 2_400, 7_300, 3_300, 28_000, 3_900, 4_400, 2_700,
  ];
  pickups.forEach((pickup, i) => {
    plans.push({
      set: 'linux-docker',
      id: 100 + i,
      name: ['build', 'test (node 22)', 'test (node 24)', 'lint', 'e2e'][i % 5]!,
      repo: i % 3 === 0 ? 'acme/api' : 'acme/web',
      queued: -560_000 + i * 38_000,
      pickup,
      run: 40_000 + ((i * 17_000) % 120_000),
      result: i === 6 ? 'failed' : i === 11 ? 'canceled' : 'succeeded',
    });
  });
  [12_000, 9_500, 41_000, 10_800].forEach((pickup, i) => {
    plans.push({
      set: 'macos-tart',
      id: 300 + i,
      name: i % 2 ? 'ios unit tests' : 'xcode build',
      repo: 'acme/app',
      queued: -480_000 + i * 100_000,
      pickup,
      run: 150_000,
      result: 'succeeded',
    });
  });
  plans.push({
    set: 'linux-docker',
    id: 150,
    name: 'deploy',
    repo: 'acme/api',
    queued: -70_000,
    pickup: 3_800,
  });
  plans.push({ set: 'linux-docker', id: 151, name: 'e2e', repo: 'acme/web', queued: -25_000, pickup: 2_600 });
  plans.push({ set: 'macos-tart', id: 350, name: 'xcode build', repo: 'acme/app', queued: -6_000 });

  for (const p of plans) {
    const b = {
      runnerRequestId: p.id,
      repositoryName: p.repo.split('/')[1]!,
      ownerName: 'acme',
      jobId: `j${p.id}`,
      jobWorkflowRef: `${p.repo}/.github/workflows/ci.yml@refs/heads/main`,
      jobDisplayName: p.name,
      workflowRunId: p.id,
      eventName: 'push',
      requestLabels: [p.set],
      queueTime: iso(now + p.queued),
      scaleSetAssignTime: iso(now + p.queued + 150),
      runnerAssignTime: p.pickup === undefined ? null : iso(now + p.queued + p.pickup),
      finishTime:
        p.pickup === undefined || p.run === undefined ? null : iso(now + p.queued + p.pickup + p.run),
    };
    const runner = `${p.set}-${p.id}`;
    const emit = telemetry.onEvent;
    emit(
      event('job-available', p.set, { job: { ...b, messageType: 'JobAvailable', acquireJobUrl: 'x' } }, now),
    );
    emit(event('job-assigned', p.set, { job: { ...b, messageType: 'JobAssigned' } }, now));
    if (p.pickup === undefined) continue;
    const up = { runner, backend: p.set.startsWith('macos') ? 'tart' : 'docker', tier: 'cold' as const };
    emit(event('runner-started', p.set, { ...up, durationMs: 900 }, now + p.queued + p.pickup - 900));
    const onRunner = { runnerName: runner, runnerId: p.id };
    emit(event('job-started', p.set, { job: { ...b, messageType: 'JobStarted', ...onRunner } }, now));
    if (p.run === undefined) continue;
    const result = p.result ?? 'succeeded';
    emit(
      event('job-completed', p.set, { job: { ...b, messageType: 'JobCompleted', ...onRunner, result } }, now),
    );
  }

  const runner = (
    name: string,
    state: RunnerStatus['state'],
    ago: number,
    extra: Partial<RunnerStatus> = {},
  ) => ({
    name,
    state,
    since: iso(now - ago),
    ...extra,
  });
  const linux = scaleSet({
    name: 'linux-docker',
    backend: 'docker',
    scaleSetId: 12,
    lastPollAt: iso(now - 3_000),
    minRunners: 1,
    maxRunners: 8,
    desiredRunners: 4,
    statistics: stats({
      totalAssignedJobs: 2,
      totalRunningJobs: 2,
      totalRegisteredRunners: 4,
      totalBusyRunners: 2,
      totalIdleRunners: 2,
    }),
    runners: [
      runner('linux-docker-150', 'busy', 66_000, { tier: 'warm', jobRequestId: 150 }),
      runner('linux-docker-151', 'busy', 22_000, { tier: 'cold', jobRequestId: 151 }),
      runner('linux-docker-9f2a', 'idle', 41_000, { tier: 'warm' }),
      runner('linux-docker-b71c', 'creating', 1_200, { tier: 'cold' }),
    ],
    runnerCounts: counts({ busy: 2, idle: 1, creating: 1 }),
    pool: { warm: 2 },
    // A job shape (issue 16) whose later jobs wait behind a bigger shape's older one.
    shape: { base: 'linux', cpu: 2, ram: 4 },
    waiting: {
      jobs: 2,
      reason: 'older-job',
      detail: 'linux-cpu8-ram32',
      text: '2 jobs without a runner: an older job of linux-cpu8-ram32 goes first on the shared budget',
    },
    counters: {
      jobsStarted: 16,
      jobsCompleted: 14,
      runnersStarted: 18,
      startFailures: 1,
      reconnects: 0,
      adopted: 1,
      cleanedUp: 2,
      undecodableMessages: 0,
      invalidJobMessages: 0,
    },
  });
  const macos = scaleSet({
    name: 'macos-tart',
    backend: 'tart',
    scaleSetId: 13,
    phase: 'reconnecting',
    reason: 'session-error: ECONNRESET',
    lastPollAt: iso(now - 21_000),
    minRunners: 0,
    maxRunners: 2,
    desiredRunners: 1,
    statistics: stats({
      totalAssignedJobs: 1,
      totalRegisteredRunners: 1,
      totalIdleRunners: 0,
      totalBusyRunners: 0,
    }),
    runners: [runner('macos-tart-350', 'creating', 5_000, { tier: 'woken' })],
    runnerCounts: counts({ creating: 1 }),
    pool: { warm: 0, sleeping: 2 },
    costs: [{ cause: 'hold-window', seconds: 312.5, usd: 0.0079 }],
    counters: {
      jobsStarted: 4,
      jobsCompleted: 4,
      runnersStarted: 5,
      startFailures: 0,
      reconnects: 3,
      adopted: 0,
      cleanedUp: 0,
      undecodableMessages: 0,
      invalidJobMessages: 0,
    },
  });
  const GiB = 1024 ** 3;
  // The Docker scale set's hosts: one busy, one cordoned, one whose engine stopped answering.
  const hosts: HostStatus[] = [
    {
      name: 'build-1',
      url: 'unix:///var/run/docker.sock',
      state: 'up',
      cordoned: false,
      budget: { count: 8, cpus: 16, memory: 64 * GiB },
      used: { count: 3, cpus: 6, memory: 12 * GiB },
      scaleSets: ['linux-docker'],
    },
    {
      name: 'build-2',
      url: 'tcp://build-2:2376',
      state: 'up',
      cordoned: true,
      budget: { count: 'unlimited', cpus: 32, memory: 128 * GiB },
      used: { count: 1, cpus: 2, memory: 4 * GiB },
      scaleSets: ['linux-docker'],
    },
    {
      name: 'build-3',
      url: 'ssh://ci@build-3',
      state: 'down',
      cordoned: false,
      error: 'no answer within 10s',
      budget: { count: 4, cpus: 'unknown', memory: 'unknown' },
      used: { count: 0, cpus: 0, memory: 0 },
      scaleSets: ['linux-docker'],
    },
  ];
  const status = (): DaemonStatus => {
    const sets = [linux, macos].map((s) => ({ ...s, recentJobs: telemetry.recent(s.name) }));
    return {
      version: '0.1.0',
      startedAt: iso(now - 7_380_000),
      healthy: true,
      ready: true,
      scaleSets: sets,
      hosts,
    };
  };
  return {
    status,
    hosts,
    linux,
    macos,
    telemetry,
    jobCount: plans.length,
    startedCount: plans.filter((p) => p.pickup).length,
  };
}
