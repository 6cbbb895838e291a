import type { ResourceKind, StartTier } from '../backends/types.js';
import type {
  InvalidJobMessage,
  JobAssigned,
  JobAvailable,
  JobCompleted,
  JobStarted,
  RunnerScaleSetStatistic,
} from './github/types.js';

/**
 * The one stream of facts the core reports as things happen. The listener, supervisor and scaler emit
 * them through an `EventSink`; metrics, job telemetry and the status counters (which `/api/status`, the
 * dashboard and `runner status` show) listen on the daemon's hub. Each consumer derives what it shows
 * from these events alone, so two views of the same fact cannot disagree.
 *
 * Every event names its scale set and carries the time it happened (ms epoch, from the emitter's clock).
 */
export type DaemonEvent =
  /** Statistics from a new session or a message (listener). */
  | (EventBase & { type: 'statistics'; stats: RunnerScaleSetStatistic })
  /** The runner count the scaler targets after a message reported GitHub's assigned-job count (listener). */
  | (EventBase & { type: 'desired-runners'; count: number })
  /** A long poll returned 200 or 202 (listener). */
  | (EventBase & { type: 'poll-succeeded' })
  /** The message session was lost or could not be opened; the supervisor tries again. */
  | (EventBase & { type: 'listener-reconnect'; reason: ReconnectReason; detail: string })
  /** A job message (listener), before the scaler handles it. */
  | (EventBase & { type: 'job-available'; job: JobAvailable })
  | (EventBase & { type: 'job-assigned'; job: JobAssigned })
  | (EventBase & { type: 'job-started'; job: JobStarted })
  | (EventBase & { type: 'job-completed'; job: JobCompleted })
  /**
   * A message whose type, statistics or body could not be decoded, given up on after it came
   * UNDECODABLE_DELIVERIES times: emitted before it is acknowledged unread, so the status shows the
   * decision before GitHub forgets the message (listener).
   */
  | (EventBase & { type: 'message-undecodable'; messageId: number; reason: string })
  /** One job message of a batch left out because it could not be decoded; the others went on (listener). */
  | (EventBase & { type: 'job-message-invalid'; messageId: number; jobMessage: InvalidJobMessage })
  /** A runner's resource is up and its runner process starting; `durationMs` from the start request (scaler). */
  | (EventBase & {
      type: 'runner-started';
      runner: string;
      backend: string;
      tier: StartTier;
      durationMs: number;
      /** The host it was placed on, for a backend with several (Docker's `[[docker.hosts]]`). */
      host?: string;
    })
  /** A start failed; `reason` is "capacity" or the error's code in lower case (scaler). */
  | (EventBase & { type: 'runner-start-failed'; runner: string; backend: string; reason: string })
  /** Runners of a previous process taken over (scaler). */
  | (EventBase & { type: 'runners-adopted'; count: number })
  /**
   * Something runner made was removed: a runner's container, VM or machine and its registration at
   * GitHub (scaler), or a message session at GitHub (supervisor). The normal end of every runner counts,
   * as do leftovers of a previous process.
   */
  | (EventBase & { type: 'cleaned-up'; kind: CleanupKind; count: number });

export interface EventBase {
  scaleSet: string;
  at: number;
}

/** Why the supervisor reconnects: a 409 from a lingering session, another failure to open one, or a listener that stopped. */
export type ReconnectReason = 'session-conflict' | 'session-error' | 'listener-error';

/** What could not be decoded: a whole message (acknowledged unread) or one job message of a batch. */
export type UndecodableKind = 'message' | 'job-message';

/** A runner's resource (the backend's `resourceKind`), its registration at GitHub, or a message session. */
export type CleanupKind = ResourceKind | 'registration' | 'session';

export type DaemonEventType = DaemonEvent['type'];

/** Where the core reports its events. Never throws into the caller (the hub isolates listeners). */
export type EventSink = (event: DaemonEvent) => void;

/** For code paths that report nothing (tests of one part, doctor). */
export const discardEvents: EventSink = () => {};
