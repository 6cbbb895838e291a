import type { StartTier } from '../../backends/types.js';
import type { Secret } from '../secret.js';

/**
 * One runner's life as a pure state machine: `next(record, event, now)` returns the new record and the
 * effects the scaler must carry out. Nothing here does I/O or reads a clock, so every transition can be
 * tested exhaustively; `RunnerScaler` only executes the effects and feeds their outcomes back in.
 *
 *   creating ─started─▶ idle ─job-started─▶ busy
 *      │                 │                   │
 *      │            retire / died        finished (exit or JobCompleted)
 *      ▼                 ▼                   ▼
 *   (start failed) ──▶ removing: deregister, then remove the resource ──▶ gone
 *                        │  ▲
 *          failed step   ▼  │ retry (backoff)
 *                       stuck
 *
 * A removal either knows the runner's process is over (`exited`: its resource goes even when GitHub
 * cannot be reached, and only the registration is retried) or it does not (a scale-down of an idle
 * runner: a refused or failed deregistration means a job may be running on it, so the runner is kept).
 */

interface Base {
  /** Runner name as registered at GitHub; the key of the record. */
  readonly name: string;
  /** When the record was made (ms epoch). */
  readonly createdAt: number;
  /** When the runner entered its current phase (ms epoch). */
  readonly since: number;
  /** GitHub's runner id, once the JIT registration answered (or read back after a restart). */
  readonly runnerId?: number | undefined;
  /** The JIT config handed to the backend; forgotten by the log scrubber once the runner is gone. */
  readonly jitConfig?: Secret | undefined;
  readonly resourceId?: string | undefined;
  readonly tier?: StartTier | undefined;
  /** Taken over from a previous process: busy or idle is unknown, scale-down asks GitHub first. */
  readonly adopted?: boolean | undefined;
  /** The job GitHub reported on this runner. */
  readonly jobRequestId?: number | undefined;
}

export interface Creating extends Base {
  readonly phase: 'creating';
  /** What the start is waiting for: the JIT registration, then the backend. */
  readonly step: 'registering' | 'starting';
  /** A job started on the runner before its start returned (the runner raced its own start). */
  readonly jobSeen: boolean;
  /** The runner's process ended, or its job completed, before its start returned. */
  readonly ended: 'no' | 'exited' | 'exited-after-job' | 'job-completed';
}

export interface Idle extends Base {
  readonly phase: 'idle';
  readonly resourceId: string;
  /** A scale-down GitHub refused (or could not answer) is not tried again before this (ms epoch). */
  readonly retireAfter: number;
}

export interface Busy extends Base {
  readonly phase: 'busy';
  readonly resourceId: string;
  readonly retireAfter: number;
}

export interface Removing extends Base {
  readonly phase: 'removing';
  readonly removal: Removal;
  readonly step: 'deregistering' | 'removing-resource';
  /** Failed attempts before this one (for the retry backoff). */
  readonly attempts: number;
}

/** A removal step failed; the removal starts over at `retryAt`. */
export interface Stuck extends Base {
  readonly phase: 'stuck';
  readonly removal: Removal;
  readonly retryAt: number;
  /** Failed attempts so far (for the retry backoff). */
  readonly attempts: number;
}

export type RunnerRecord = Creating | Idle | Busy | Removing | Stuck;
export type Phase = RunnerRecord['phase'];

export type RemovalCause =
  | 'start-failed'
  | 'start-aborted'
  | 'finished'
  | 'died'
  | 'scale-down'
  | 'idle-timeout'
  | 'leftover'
  | 'orphaned-registration';

/**
 * What a removal knows. `exited: false` is only ever a scale-down or recycle of an idle runner, which
 * goes back to `keep` when GitHub will not confirm that no job runs on it.
 */
export type Removal = {
  readonly cause: RemovalCause;
  /** There is a registration at GitHub to remove (a runner id is known and it was not removed yet). */
  readonly registration: boolean;
  /** The runner's container/VM/machine may exist (removal is idempotent, so "may" is enough). */
  readonly resource: boolean;
} & ({ readonly exited: true } | { readonly exited: false; readonly keep: 'idle' | 'busy' });

export type LifecycleEvent =
  | { readonly type: 'registered'; readonly runnerId: number; readonly jitConfig: Secret }
  | { readonly type: 'started'; readonly resourceId: string; readonly tier: StartTier }
  /** Registration or backend start failed; `aborted` when shutdown cut it short. */
  | { readonly type: 'start-failed'; readonly aborted: boolean }
  | { readonly type: 'job-started'; readonly jobRequestId: number }
  | { readonly type: 'job-completed' }
  /** The backend reported the runner's process over. */
  | { readonly type: 'exited'; readonly exitCode?: number | undefined }
  /** Reconciliation found the runner's resource gone or exited. */
  | { readonly type: 'resource-gone' }
  | { readonly type: 'retire'; readonly cause: 'scale-down' | 'idle-timeout' }
  | { readonly type: 'deregistered'; readonly outcome: 'removed' | 'not-found' | 'busy' | 'error' }
  | { readonly type: 'resource-removed' }
  | { readonly type: 'resource-remove-failed' }
  /** A stuck removal's time has come (timer, reconcile or drain). */
  | { readonly type: 'retry' };

export type Effect =
  | { readonly type: 'register' }
  | { readonly type: 'start' }
  | { readonly type: 'deregister'; readonly runnerId: number }
  | { readonly type: 'remove-resource' }
  /** The record is gone: drop it, its state-file entry and its JIT config. */
  | { readonly type: 'forget' }
  /**
   * The runner finished a job whose JobCompleted has not arrived yet: GitHub's assigned count still
   * includes it, so its slot stays counted for a grace period (or until the message comes).
   */
  | { readonly type: 'hold-slot' }
  | {
      readonly type: 'log';
      readonly level: 'debug' | 'info' | 'warn';
      readonly msg: string;
      readonly fields?: Record<string, unknown>;
    };

export interface Transition {
  /** Undefined: the record is gone (with a `forget` effect). */
  readonly record: RunnerRecord | undefined;
  readonly effects: readonly Effect[];
}

/** A scale-down refused by GitHub (or unanswered) is tried again after this long. */
export const RETIRE_RETRY_MS = 2000;
/** Failed removals are retried after 2 s, doubling to at most a minute. */
export const REMOVAL_RETRY_MS = { initial: 2000, max: 60_000 } as const;

export function removalRetryDelay(attempts: number): number {
  return Math.min(REMOVAL_RETRY_MS.initial * 2 ** Math.max(0, attempts - 1), REMOVAL_RETRY_MS.max);
}

/** A new runner, about to be registered. */
export function creating(name: string, now: number): Creating {
  return {
    name,
    createdAt: now,
    since: now,
    phase: 'creating',
    step: 'registering',
    jobSeen: false,
    ended: 'no',
  };
}

/** A runner of a previous process found running: busy or idle is unknown, so it starts as idle. */
export function adopted(
  name: string,
  o: { resourceId: string; runnerId?: number | undefined; createdAt?: number | undefined },
  now: number,
): Idle {
  return {
    name,
    createdAt: o.createdAt ?? now,
    since: now,
    phase: 'idle',
    runnerId: o.runnerId,
    resourceId: o.resourceId,
    adopted: true,
    retireAfter: 0,
  };
}

/** Something left behind that only needs removing: an exited runner of a previous run, a registration. */
export function leftover(
  name: string,
  o: {
    runnerId?: number | undefined;
    resourceId?: string | undefined;
    createdAt?: number | undefined;
    cause: 'leftover' | 'orphaned-registration';
  },
  now: number,
): Transition {
  const base = {
    name,
    createdAt: o.createdAt ?? now,
    since: now,
    runnerId: o.runnerId,
    resourceId: o.resourceId,
    adopted: true,
  };
  const removal: Removal = {
    cause: o.cause,
    exited: true,
    registration: o.runnerId !== undefined,
    resource: o.cause === 'leftover',
  };
  return beginRemoval(base, removal, now);
}

/** The state name shown in status and metrics. */
export function stateName(r: RunnerRecord): 'creating' | 'idle' | 'busy' | 'removing' | 'failed' {
  return r.phase === 'stuck' ? 'failed' : r.phase;
}

const same = (record: RunnerRecord): Transition => ({ record, effects: [] });

export function next(r: RunnerRecord, e: LifecycleEvent, now: number): Transition {
  switch (r.phase) {
    case 'creating':
      return fromCreating(r, e, now);
    case 'idle':
    case 'busy':
      return fromRunning(r, e, now);
    case 'removing':
      return fromRemoving(r, e, now);
    case 'stuck':
      return fromStuck(r, e, now);
  }
}

function fromCreating(r: Creating, e: LifecycleEvent, now: number): Transition {
  switch (e.type) {
    case 'registered':
      if (r.step !== 'registering') return same(r);
      return {
        record: { ...r, step: 'starting', runnerId: e.runnerId, jitConfig: e.jitConfig },
        effects: [{ type: 'start' }],
      };
    case 'started': {
      const started = { ...r, resourceId: e.resourceId, tier: e.tier };
      if (r.ended !== 'no') {
        // It ran (and maybe finished) its job before its start returned.
        const heldSlot: Effect[] = r.ended === 'exited-after-job' ? [{ type: 'hold-slot' }] : [];
        const cause = r.ended === 'exited' ? 'died' : 'finished';
        const t = beginRemoval(started, exitedRemoval(started, cause), now);
        return { record: t.record, effects: [...heldSlot, ...t.effects] };
      }
      const record: Idle | Busy = {
        ...baseOf(started),
        phase: r.jobSeen ? 'busy' : 'idle',
        since: now,
        resourceId: e.resourceId,
        retireAfter: 0,
      };
      return { record, effects: [] };
    }
    case 'start-failed': {
      const removal: Removal = {
        cause: e.aborted ? 'start-aborted' : 'start-failed',
        exited: true,
        registration: r.runnerId !== undefined,
        // A failed start leaves nothing by contract; removal is idempotent and an aborted one may not have.
        resource: true,
      };
      return beginRemoval(r, removal, now);
    }
    case 'job-started':
      return same({ ...r, jobSeen: true, jobRequestId: e.jobRequestId });
    case 'job-completed':
      return same({ ...r, ended: 'job-completed' });
    case 'exited':
      if (r.ended !== 'no') return same(r);
      return same({ ...r, ended: r.jobSeen && e.exitCode === 0 ? 'exited-after-job' : 'exited' });
    case 'resource-gone':
    case 'retire':
    case 'deregistered':
    case 'resource-removed':
    case 'resource-remove-failed':
    case 'retry':
      return same(r);
  }
}

function fromRunning(r: Idle | Busy, e: LifecycleEvent, now: number): Transition {
  switch (e.type) {
    case 'job-started':
      return same(
        r.phase === 'busy'
          ? { ...r, jobRequestId: e.jobRequestId }
          : { ...r, phase: 'busy', since: now, jobRequestId: e.jobRequestId },
      );
    case 'job-completed':
      return beginRemoval(r, exitedRemoval(r, 'finished'), now);
    case 'exited': {
      // A clean exit of an "idle" runner is a job too short for its JobStarted to have arrived.
      const finished = r.phase === 'busy' || e.exitCode === 0;
      const effects: Effect[] = finished ? [{ type: 'hold-slot' }] : [];
      return beginRemoval(r, exitedRemoval(r, finished ? 'finished' : 'died'), now, effects);
    }
    case 'resource-gone':
      return beginRemoval(r, exitedRemoval(r, r.phase === 'busy' ? 'finished' : 'died'), now);
    case 'retire': {
      if (r.phase !== 'idle') return same(r);
      const removal: Removal = {
        cause: e.cause,
        exited: false,
        keep: 'idle',
        registration: r.runnerId !== undefined,
        resource: true,
      };
      return beginRemoval(r, removal, now);
    }
    case 'registered':
    case 'started':
    case 'start-failed':
    case 'deregistered':
    case 'resource-removed':
    case 'resource-remove-failed':
    case 'retry':
      return same(r);
  }
}

function fromRemoving(r: Removing, e: LifecycleEvent, now: number): Transition {
  const { removal } = r;
  switch (e.type) {
    case 'deregistered': {
      if (r.step !== 'deregistering') return same(r);
      if (e.outcome === 'removed' || e.outcome === 'not-found') {
        return continueRemoval(r, { ...removal, registration: false }, now);
      }
      if (!removal.exited) {
        // GitHub refuses while a job runs (so the runner is in fact busy), or could not be asked: a
        // job might be running, so the runner stays.
        const keep = e.outcome === 'busy' ? 'busy' : removal.keep;
        const effects: Effect[] =
          e.outcome === 'busy' && removal.keep === 'idle'
            ? [
                {
                  type: 'log',
                  level: 'info',
                  msg: 'runner picked up a job while being scaled down; keeping it',
                },
              ]
            : [];
        const resourceId = r.resourceId ?? '';
        const record: Idle | Busy = {
          ...baseOf(r),
          phase: keep,
          since: now,
          resourceId,
          retireAfter: now + RETIRE_RETRY_MS,
        };
        return { record, effects };
      }
      // The process is over: its resource goes anyway; the registration is retried later.
      return continueRemoval(r, removal, now, true);
    }
    case 'resource-removed': {
      if (r.step !== 'removing-resource') return same(r);
      const done = { ...removal, resource: false };
      if (done.registration) return stuck(r, done, now);
      return { record: undefined, effects: [{ type: 'forget' }] };
    }
    case 'resource-remove-failed':
      if (r.step !== 'removing-resource') return same(r);
      return stuck(r, removal, now);
    case 'job-started':
      if (removal.exited) return same({ ...r, jobRequestId: e.jobRequestId });
      return same({ ...r, jobRequestId: e.jobRequestId, removal: { ...removal, keep: 'busy' } });
    case 'job-completed':
    case 'exited':
    case 'resource-gone':
      // The process is over: from here on its resource may go even if GitHub cannot be reached.
      return same({ ...r, removal: asExited(removal) });
    case 'registered':
    case 'started':
    case 'start-failed':
    case 'retire':
    case 'retry':
      return same(r);
  }
}

function fromStuck(r: Stuck, e: LifecycleEvent, now: number): Transition {
  switch (e.type) {
    case 'retry':
      return beginRemoval(r, r.removal, now, [], r.attempts);
    case 'job-completed':
    case 'exited':
    case 'resource-gone':
      return same({ ...r, removal: asExited(r.removal) });
    case 'job-started':
      return same({ ...r, jobRequestId: e.jobRequestId });
    case 'registered':
    case 'started':
    case 'start-failed':
    case 'retire':
    case 'deregistered':
    case 'resource-removed':
    case 'resource-remove-failed':
      return same(r);
  }
}

function stuck(r: Removing, removal: Removal, now: number): Transition {
  const attempts = r.attempts + 1;
  const record: Stuck = {
    ...baseOf(r),
    phase: 'stuck',
    since: now,
    removal,
    attempts,
    retryAt: now + removalRetryDelay(attempts),
  };
  return { record, effects: [] };
}

function asExited(removal: Removal): Removal {
  if (removal.exited) return removal;
  return {
    cause: removal.cause,
    registration: removal.registration,
    resource: removal.resource,
    exited: true,
  };
}

function exitedRemoval(r: Base, cause: RemovalCause): Removal {
  return { cause, exited: true, registration: r.runnerId !== undefined, resource: true };
}

/** The fields every phase shares, without the phase-specific ones. */
function baseOf(r: Base): Base {
  return {
    name: r.name,
    createdAt: r.createdAt,
    since: r.since,
    runnerId: r.runnerId,
    jitConfig: r.jitConfig,
    resourceId: r.resourceId,
    tier: r.tier,
    adopted: r.adopted,
    jobRequestId: r.jobRequestId,
  };
}

/** Starts (or restarts) a removal at its first step that is still to do. */
function beginRemoval(
  r: Base,
  removal: Removal,
  now: number,
  before: Effect[] = [],
  attempts = 0,
): Transition {
  const record: Removing = {
    ...baseOf(r),
    phase: 'removing',
    since: now,
    removal,
    step: 'deregistering',
    attempts,
  };
  return continueRemoval(record, removal, now, false, before);
}

/** The next step of a removal, given what is left to do. */
function continueRemoval(
  r: Removing,
  removal: Removal,
  now: number,
  skipRegistration = false,
  before: Effect[] = [],
): Transition {
  if (removal.registration && !skipRegistration && r.runnerId !== undefined) {
    return {
      record: { ...r, removal, step: 'deregistering' },
      effects: [...before, { type: 'deregister', runnerId: r.runnerId }],
    };
  }
  if (removal.resource) {
    return {
      record: { ...r, removal, step: 'removing-resource' },
      effects: [...before, { type: 'remove-resource' }],
    };
  }
  if (removal.registration && r.runnerId !== undefined) {
    // Only the registration is left and it could not be removed: wait and retry.
    return { record: stuck(r, removal, now).record, effects: before };
  }
  return { record: undefined, effects: [...before, { type: 'forget' }] };
}
