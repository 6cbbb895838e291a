import { Writable } from 'node:stream';
import type { DaemonEvent, DaemonEventType } from '../../src/events.js';
import type {
  JobAssigned,
  JobAvailable,
  JobCompleted,
  JobMessageBase,
  JobStarted,
  RunnerScaleSetStatistic,
} from '../../src/github/types.js';
import type { DaemonStatus, RunnerStateName, ScaleSetStatus } from '../../src/health/status-types.js';
import { createLogger, type Logger } from '../../src/log.js';

export const T0 = Date.parse('2026-03-02T10:00:00.000Z');
export const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

/** A clock tests move by hand. */
export function manualClock(start = T0) {
  let t = start;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

export function counts(
  partial: Partial<Record<RunnerStateName, number>> = {},
): Record<RunnerStateName, number> {
  return { creating: 0, idle: 0, busy: 0, done: 0, failed: 0, removing: 0, ...partial };
}

export function stats(partial: Partial<RunnerScaleSetStatistic> = {}): RunnerScaleSetStatistic {
  return {
    totalAvailableJobs: 0,
    totalAcquiredJobs: 0,
    totalAssignedJobs: 0,
    totalRunningJobs: 0,
    totalRegisteredRunners: 0,
    totalBusyRunners: 0,
    totalIdleRunners: 0,
    ...partial,
  };
}

export function scaleSet(partial: Partial<ScaleSetStatus> & { name: string }): ScaleSetStatus {
  return {
    backend: 'docker',
    phase: 'listening',
    healthy: true,
    minRunners: 0,
    maxRunners: 4,
    desiredRunners: 0,
    runners: [],
    runnerCounts: counts(),
    pool: {},
    recentJobs: [],
    counters: {
      jobsStarted: 0,
      jobsCompleted: 0,
      runnersStarted: 0,
      startFailures: 0,
      reconnects: 0,
      adopted: 0,
      cleanedUp: 0,
      undecodableMessages: 0,
      invalidJobMessages: 0,
    },
    ...partial,
  };
}

export function daemonStatus(scaleSets: ScaleSetStatus[], partial: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    version: '0.1.0',
    startedAt: at(-3_600_000),
    healthy: scaleSets.every((s) => s.healthy),
    ready: true,
    scaleSets,
    ...partial,
  };
}

/** Wire message of one job; times are offsets from T0 in ms, null = unset (as on the wire). */
export function jobBase(
  requestId: number,
  times: {
    queued?: number | null;
    assigned?: number | null;
    started?: number | null;
    finished?: number | null;
  } = {},
  extra: Partial<JobMessageBase> = {},
): JobMessageBase {
  const t = (v: number | null | undefined) => (v === undefined || v === null ? null : at(v));
  return {
    messageType: 'JobAvailable',
    runnerRequestId: requestId,
    repositoryName: 'app',
    ownerName: 'acme',
    jobId: `job-${requestId}`,
    jobWorkflowRef: 'acme/app/.github/workflows/ci.yml@refs/heads/main',
    jobDisplayName: `build (${requestId})`,
    workflowRunId: 1000 + requestId,
    eventName: 'push',
    requestLabels: ['linux'],
    queueTime: t(times.queued),
    scaleSetAssignTime: t(times.assigned),
    runnerAssignTime: t(times.started),
    finishTime: t(times.finished),
    ...extra,
  };
}

export const available = (b: JobMessageBase): JobAvailable => ({
  ...b,
  messageType: 'JobAvailable',
  acquireJobUrl: 'http://x/acquire',
});
export const assigned = (b: JobMessageBase): JobAssigned => ({ ...b, messageType: 'JobAssigned' });
export const started = (b: JobMessageBase, runnerName: string, runnerId = 7): JobStarted => ({
  ...b,
  messageType: 'JobStarted',
  runnerName,
  runnerId,
});
export const completed = (
  b: JobMessageBase,
  runnerName: string,
  result = 'succeeded',
  runnerId = 7,
): JobCompleted => ({
  ...b,
  messageType: 'JobCompleted',
  runnerName,
  runnerId,
  result,
});

/** A JSON logger writing into memory; `lines()` parses what was written so far. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  let buf = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  // pino writes synchronously to a plain Writable, so the lines are there as soon as the call returns.
  const logger = createLogger({ level: 'debug', format: 'json', destination: sink });
  return {
    logger,
    lines: () =>
      buf
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

type EventOf<T extends DaemonEventType> = Extract<DaemonEvent, { type: T }>;

/** An event as the listener, supervisor or scaler emits it; `at` defaults to T0. */
export function event<T extends DaemonEventType>(
  type: T,
  scaleSet: string,
  fields: Omit<EventOf<T>, 'type' | 'scaleSet' | 'at'>,
  at = T0,
): EventOf<T> {
  return { type, scaleSet, at, ...fields } as EventOf<T>;
}
