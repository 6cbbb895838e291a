import type { OwnedRunner, RunnerEvent } from '../../backends/types.js';

/**
 * Messages between the benchmark's daemon process and its "world" child (the fake Actions service
 * and the in-process runners). Both sides are ours, so the shapes are trusted; dates travel as ms.
 */

export type Request =
  | { t: 'start'; id: number; name: string; jit: string }
  | { t: 'remove'; id: number; name: string }
  | { t: 'listOwned'; id: number }
  | { t: 'queue'; id: number; jobs: number; scaleSet: string }
  | { t: 'verify'; id: number }
  | { t: 'cpu'; id: number };

export type Reply =
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: string };

export type Notice =
  | { t: 'ready'; url: string; configUrl: string; pat: string }
  | { t: 'exited'; name: string; resourceId: string; exitCode?: number; at: number }
  | { t: 'allCompleted'; firstQueuedAt: number; lastCompletedAt: number };

export type FromWorld = Reply | Notice;

export interface Verdict {
  jobs: number;
  completed: number;
  succeeded: number;
  /** Jobs whose history shows more than one start or completion. */
  duplicated: number;
  /** Jobs not completed (still queued, assigned or running). */
  lost: number;
  /** Fake runner registrations left. */
  registrationsLeft: number;
  /** Service requests the fake answered during the run, by route. */
  requests: Record<string, number>;
}

export type WireOwned = Omit<OwnedRunner, 'createdAt'>;

export function toWireEvent(e: RunnerEvent): Notice {
  return { t: 'exited', name: e.name, resourceId: e.resourceId, exitCode: e.exitCode, at: e.at.getTime() };
}
