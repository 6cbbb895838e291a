import type { RunnerScaleSetStatistic } from '../github/types.js';

/**
 * What the daemon tells the outside about itself: the health endpoints, `runner status`, the dashboard
 * and the Prometheus collectors all read this one snapshot (built on demand, never cached).
 */
export interface DaemonStatus {
  version: string;
  startedAt: string;
  /** Overall: true while every scale set is healthy. */
  healthy: boolean;
  ready: boolean;
  scaleSets: ScaleSetStatus[];
}

export type RunnerStateName = 'creating' | 'idle' | 'busy' | 'done' | 'failed' | 'removing';

export interface ScaleSetStatus {
  name: string;
  backend: string;
  /** GitHub scale set id once registered. */
  scaleSetId?: number;
  /** Phase of the listener: starting (auth/registration), listening, reconnecting, stopped. */
  phase: 'starting' | 'listening' | 'reconnecting' | 'draining' | 'stopped';
  healthy: boolean;
  /** Why not healthy (last error, or "no successful poll for 95 s"). */
  reason?: string;
  /** ISO time of the last long poll that returned 200 or 202. */
  lastPollAt?: string;
  minRunners: number;
  maxRunners: number;
  desiredRunners: number;
  statistics?: RunnerScaleSetStatistic;
  runners: RunnerStatus[];
  /** Count per state, every state present (0 when none). */
  runnerCounts: Record<RunnerStateName, number>;
  /** Backend pool tiers, e.g. { warm: 2, sleeping: 3 }. */
  pool: Record<string, number>;
  /**
   * Present while the backend (its engine, CLI or API) has answered nothing for 10 s or more: since
   * when (ISO) and the last error. Makes the scale set unhealthy, whatever its listener does.
   */
  backendStall?: { since: string; lastError?: string };
  /**
   * Present while the state file (the ledger of registrations, for crash recovery) cannot be written,
   * e.g. a full disk: its path, since when (ISO) and the last error. No new runner starts meanwhile,
   * and the scale set is unhealthy.
   */
  stateFile?: { path: string; since: string; error: string };
  recentJobs: JobRecord[];
  /**
   * Since the daemon started, counted from the same events as the metrics: each equals its metric summed
   * over the labels (`cleanedUp` is runner_cleaned_up_total over every kind: resources, registrations
   * and sessions).
   */
  counters: {
    jobsStarted: number;
    jobsCompleted: number;
    runnersStarted: number;
    startFailures: number;
    reconnects: number;
    adopted: number;
    cleanedUp: number;
  };
}

export interface RunnerStatus {
  name: string;
  state: RunnerStateName;
  resourceId?: string;
  tier?: 'cold' | 'warm' | 'woken';
  since: string;
  jobRequestId?: number;
}

/** Per-job telemetry: one record per job, kept for the last N jobs. Times are ISO strings. */
export interface JobRecord {
  requestId: number;
  scaleSet: string;
  jobDisplayName?: string;
  repository?: string;
  workflowRef?: string;
  runnerName?: string;
  result?: string;
  /** "queued", "running", or the result once completed: what the dashboard and `runner status` show (jobState). */
  state: string;
  queuedAt?: string;
  assignedAt?: string;
  runnerStartedAt?: string;
  startedAt?: string;
  completedAt?: string;
  /**
   * Derived gaps in ms (undefined when an end is missing), never negative: queued → assigned → a runner
   * ready for the job → started, which add up to `pickupMs` (a warm runner up before the assignment
   * makes `assignToRunnerMs` 0: the job did not wait for one).
   */
  queueToAssignMs?: number;
  assignToRunnerMs?: number;
  /** Runner ready (up, and the job assigned) → job started on it. */
  runnerToStartMs?: number;
  /** Pickup latency: queued → job started. */
  pickupMs?: number;
  executionMs?: number;
}
