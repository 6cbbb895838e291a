import type { ResourceKind, StartTier } from '../backends/types.js';
import type {
  JobAssigned,
  JobAvailable,
  JobCompleted,
  JobStarted,
  RunnerScaleSetStatistic,
} from './github/types.js';

/**
 * The one stream of facts the core reports as things happen. The listener, supervisor and scaler emit
 * them through an `EventSink`; metrics, job telemetry, status and the dashboard subscribe to the
 * daemon's hub. A consumer derives everything it shows from these events (or from the status snapshot),
 * so two views of the same fact cannot disagree.
 *
 * Every event names its scale set and carries the time it happened (ms epoch, from the emitter's clock).
 */
export type DaemonEvent =
  /** Statistics from a session or a message. */
  | (EventBase & { type: 'statistics'; stats: RunnerScaleSetStatistic })
  /** The runner count the scaler targets after the listener reported GitHub's assigned-job count. */
  | (EventBase & { type: 'desired-runners'; count: number })
  /** A long poll returned 200 or 202. */
  | (EventBase & { type: 'poll-succeeded' })
  /** The supervisor lost or could not open a message session and will try again. */
  | (EventBase & { type: 'listener-reconnect'; reason: ReconnectReason; detail: string })
  /** A message session of ours was deleted at GitHub (on reconnect or shutdown). */
  | (EventBase & { type: 'session-closed' })
  | (EventBase & { type: 'job-available'; job: JobAvailable })
  | (EventBase & { type: 'job-assigned'; job: JobAssigned })
  | (EventBase & { type: 'job-started'; job: JobStarted })
  | (EventBase & { type: 'job-completed'; job: JobCompleted })
  /** A runner's resource is up and its runner process starting (`durationMs` from the start request). */
  | (EventBase & {
      type: 'runner-started';
      runner: string;
      backend: string;
      tier: StartTier;
      durationMs: number;
    })
  /** A start failed; `reason` is "capacity" or the error's code in lower case. */
  | (EventBase & { type: 'runner-start-failed'; runner: string; backend: string; reason: string })
  /** Runners of a previous process taken over. */
  | (EventBase & { type: 'runners-adopted'; count: number })
  /**
   * Something runner made was removed: a runner's container, VM or machine, a runner registration at
   * GitHub, or a message session. `leftover` marks what a previous process (or a lost start) left
   * behind, as opposed to the normal end of a runner after its job.
   */
  | (EventBase & { type: 'cleaned-up'; kind: CleanupKind; count: number; leftover: boolean });

export interface EventBase {
  scaleSet: string;
  at: number;
}

export type ReconnectReason = 'session-conflict' | 'session-error' | 'listener-error';

export type CleanupKind = ResourceKind | 'registration' | 'session';

export type DaemonEventType = DaemonEvent['type'];

/** Where the core reports its events. Never throws into the caller (the hub isolates listeners). */
export type EventSink = (event: DaemonEvent) => void;

/** For code paths that report nothing (tests of one part, doctor). */
export const discardEvents: EventSink = () => {};
