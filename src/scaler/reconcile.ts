import type { OwnedRunner } from '../../backends/types.js';
import type { StoredRunner } from '../state/scale-set-store.js';
import type { LifecycleEvent, RunnerRecord } from './lifecycle.js';

export interface ReconcilePlan {
  /** Events for runners we track, from what the backend shows. */
  events: [name: string, event: LifecycleEvent][];
  /** Running resources nobody tracks: a previous process's runners, to adopt. */
  adopt: OwnedRunner[];
  /** Exited or never-started resources nobody tracks: leftovers to remove. */
  leftovers: OwnedRunner[];
  /** Registrations in the state file with neither a record nor a resource (crash between JIT and start). */
  orphans: [name: string, stored: StoredRunner][];
}

/**
 * Compares our records with the backend's listing and the state file. Pure: the scaler applies the
 * result. The listing is a picture of a moment already past: runners still starting, or that came up
 * after the listing was asked for, are left alone, and runners removed since are not adopted again.
 */
export function reconcilePlan(
  records: ReadonlyMap<string, RunnerRecord>,
  owned: readonly OwnedRunner[],
  stored: ReadonlyMap<string, StoredRunner>,
  opts: {
    idleTimeout: number;
    now: number;
    /** When the listing was asked for: a runner that came up after it cannot be in it. */
    listedAt: number;
    /** Runners forgotten since the listing was asked for: listed, but not to be adopted again. */
    forgotten: ReadonlySet<string>;
  },
): ReconcilePlan {
  const byName = new Map(owned.map((o) => [o.name, o]));
  const events: ReconcilePlan['events'] = [];
  for (const r of records.values()) {
    const o = byName.get(r.name);
    if (r.phase === 'stuck') {
      // Normally the retry timer does this; after a stall (a suspended host) reconcile catches up.
      if (r.retryAt <= opts.now) events.push([r.name, { type: 'retry' }]);
    } else if (
      (r.phase === 'idle' || r.phase === 'busy') &&
      r.since < opts.listedAt &&
      (!o || o.state === 'exited')
    ) {
      events.push([r.name, { type: 'resource-gone' }]);
    } else if (r.phase === 'idle' && opts.idleTimeout > 0 && opts.now - r.since > opts.idleTimeout) {
      events.push([r.name, { type: 'retire', cause: 'idle-timeout' }]);
    }
  }
  const adopt: OwnedRunner[] = [];
  const leftovers: OwnedRunner[] = [];
  for (const o of owned) {
    if (records.has(o.name) || opts.forgotten.has(o.name)) continue;
    // A runner still starting that no record of ours is starting was begun by a process that died
    // half-way (a container created and never started): nobody will finish its start, so adopted as
    // idle it would hold a slot and stand in for a warm runner that never takes a job.
    (o.state === 'exited' || o.state === 'starting' ? leftovers : adopt).push(o);
  }
  const orphans: ReconcilePlan['orphans'] = [];
  for (const [name, s] of stored) {
    if (!records.has(name) && !byName.has(name) && !opts.forgotten.has(name)) orphans.push([name, s]);
  }
  return { events, adopt, leftovers, orphans };
}
