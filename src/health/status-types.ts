import type { BackendHost } from '../../backends/types.js';
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
  /**
   * The machines the scale sets place runners on (Docker's `[[docker.hosts]]`), each once however many
   * sets share it. Absent when no backend has hosts.
   */
  hosts?: HostStatus[];
}

/** One host: whether it answers, its cordon, and its budget against what runners there take. */
export interface HostStatus extends BackendHost {
  /** The scale sets that list the host. */
  scaleSets: string[];
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
   * What the backend's runners cost beyond their jobs since the daemon started, by cause (Dedalus:
   * `hold-window`, the awake seconds its sleep hold window added). Absent for a backend without such costs.
   */
  costs?: { cause: string; seconds: number; usd: number }[];
  /**
   * The job shape this scale set was made from (`[[scaleset.shape]]`): its base set and size. Absent
   * for a scale set without shapes.
   */
  shape?: { base: string; cpu: number; ram: number; disk?: number; arch?: string; image?: string };
  /**
   * Jobs assigned to this scale set with no runner yet, and why they wait: `starting` (runners on
   * their way), `max-runners`, `budget` (a budget shared with other sets is full), `backend-capacity`
   * (the backend's own cap), `older-job` (an older job of `detail`'s set goes first on a shared
   * budget), `start-backoff` (after failed starts). Absent while no job waits.
   */
  waiting?: { jobs: number; reason: string; detail?: string; text: string };
  /**
   * Configured labels GitHub left out of its answer when the scale set was created or updated: jobs
   * that target them wait for ever. On GHES 3.18–3.20 the appliance flag
   * DistributedTask.AllowRunnerScaleSetCustomLabels is off. Absent when every label was kept.
   */
  droppedLabels?: string[];
  /**
   * Present while the backend (its engine, CLI or API) has answered nothing for 10 s or more: since
   * when (ISO) and the last error. Makes the scale set unhealthy, whatever its listener does.
   */
  backendStall?: { since: string; lastError?: string };
  /** Settings that work but deserve a look, e.g. TLS verification turned off (insecure-skip-tls-verify). */
  warnings?: string[];
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
   * and sessions), or one label of it (`undecodableMessages` and `invalidJobMessages` are
   * runner_undecodable_messages_total{kind="message"} and {kind="job-message"}).
   */
  counters: {
    jobsStarted: number;
    jobsCompleted: number;
    runnersStarted: number;
    startFailures: number;
    reconnects: number;
    adopted: number;
    cleanedUp: number;
    /** Messages acknowledged unread because they could not be decoded (their job events are lost). */
    undecodableMessages: number;
    /** Single job messages left out of their batch because they could not be decoded. */
    invalidJobMessages: number;
  };
  /** The last message or job message that could not be decoded, for `runner status` and the dashboard. */
  lastUndecodable?: UndecodableRecord;
}

export interface UndecodableRecord {
  kind: 'message' | 'job-message';
  messageId: number;
  /** For a job message: its position in the message's body, and its request id when readable. */
  jobIndex?: number;
  runnerRequestId?: number;
  reason: string;
  /** ISO time it was given up on. */
  at: string;
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
  /** The host the runner ran on, for a backend with several (Docker's `[[docker.hosts]]`). */
  host?: string;
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
