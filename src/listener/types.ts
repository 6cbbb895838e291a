import type {
  JobAssigned,
  JobCompleted,
  JobStarted,
  RunnerScaleSetMessage,
  RunnerScaleSetSession,
} from '../github/types.js';

/** What the listener needs from a message session (implemented by github/MessageSession). */
export interface ListenerClient {
  readonly session: RunnerScaleSetSession;
  getMessage(
    lastMessageId: number,
    maxCapacity: number,
    signal?: AbortSignal,
  ): Promise<RunnerScaleSetMessage | null>;
  deleteMessage(messageId: number, signal?: AbortSignal): Promise<void>;
  acquireJobs(requestIds: number[], signal?: AbortSignal): Promise<number[]>;
}

/** The scaler seam, as in actions/scaleset's listener, with per-event error handling on our side. */
export interface Scaler {
  /** Ours, not actions/scaleset's: a job's queue time ranks starts on a budget shared between sets. */
  handleJobAssigned?(job: JobAssigned): Promise<void>;
  handleJobStarted(job: JobStarted): Promise<void>;
  handleJobCompleted(job: JobCompleted): Promise<void>;
  /** `count` is statistics.totalAssignedJobs; returns the runner count actually targeted. */
  handleDesiredRunnerCount(count: number): Promise<number>;
}
