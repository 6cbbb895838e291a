import type { RunnerRecord } from './lifecycle.js';

/** What the scale set should have, from configuration, the backend and GitHub's count. */
export interface TargetInputs {
  minRunners: number;
  maxRunners: number;
  /** The backend's own cap (host VM limit, plan quota); undefined: none. */
  backendMax: number | undefined;
  /** Idle runners the backend wants ready now (e.g. a warm tier on a schedule). */
  warm: number;
  /** statistics.totalAssignedJobs from the last message. */
  assigned: number;
  draining: boolean;
}

/** target = min(max, backend cap, max(min, warm) + assigned); 0 while draining. */
export function targetOf(t: TargetInputs): number {
  if (t.draining) return 0;
  const cap = Math.min(t.maxRunners, t.backendMax ?? Number.POSITIVE_INFINITY);
  return Math.max(0, Math.min(cap, Math.max(t.minRunners, t.warm) + t.assigned));
}

export interface PlanInputs {
  /** Undefined until GitHub's first count: then nothing is started or scaled down. */
  target: number | undefined;
  maxRunners: number;
  /** Registrations run this many starts ahead of backend starts (start-concurrency × register-ahead). */
  startSlots: number;
  /** Starts are held back until this moment after a failed start (ms epoch). */
  startNotBefore: number;
  /**
   * No new runner now, for as long as it takes (the state file cannot be written): whoever set it
   * calls the scaler again when it clears, so it sets no wake-up.
   */
  startsPaused?: boolean;
  /** Slots held for runners that finished a job whose JobCompleted has not arrived: name → until. */
  holds: ReadonlyMap<string, number>;
  now: number;
}

export interface Plan {
  /** Runners to start now. */
  start: number;
  /** Idle runners to scale down now, oldest idle first. */
  retire: readonly string[];
  /** Stuck removals whose retry time has come. */
  retry: readonly string[];
  /** Holds that ran out, to drop. */
  expiredHolds: readonly string[];
  /**
   * The earliest moment the plan could change with nothing else happening: a start gate opening, a
   * refused scale-down's wait ending, a stuck removal's retry, a hold expiring. Infinity: none.
   */
  wakeAt: number;
  /** Counts the plan was made from (for tests and status). */
  live: number;
  removing: number;
}

/**
 * What to do now, from the records alone. Pure: the scaler calls it after every change and arms one
 * timer for `wakeAt`, so every "not before" in the plan is honoured without polling.
 *
 * Runners being removed still hold a container/VM or at least a registration: counting them keeps
 * max-runners a hard cap. A runner that finished its job holds its slot until JobCompleted arrives
 * (or the hold expires), so the stale assigned count does not start a runner for a job already done.
 */
export function plan(records: Iterable<RunnerRecord>, p: PlanInputs): Plan {
  let wakeAt = Number.POSITIVE_INFINITY;
  const expiredHolds: string[] = [];
  let held = 0;
  for (const [name, until] of p.holds) {
    if (until <= p.now) expiredHolds.push(name);
    else {
      held++;
      wakeAt = Math.min(wakeAt, until);
    }
  }
  let live = held;
  let removing = 0;
  let creating = 0;
  const idle: RunnerRecord[] = [];
  const retry: string[] = [];
  for (const r of records) {
    switch (r.phase) {
      case 'creating':
        live++;
        creating++;
        break;
      case 'idle':
        live++;
        idle.push(r);
        break;
      case 'busy':
        live++;
        break;
      case 'removing':
        removing++;
        break;
      case 'stuck':
        removing++;
        if (r.retryAt <= p.now) retry.push(r.name);
        else wakeAt = Math.min(wakeAt, r.retryAt);
        break;
    }
  }

  let start = 0;
  const retire: string[] = [];
  if (p.target === undefined) {
    // Unknown target: adopted runners stay, nothing starts.
  } else if (live < p.target) {
    const room = p.maxRunners - live - removing;
    const n = Math.min(p.target - live, room, p.startSlots - creating);
    if (n > 0 && !p.startsPaused) {
      if (p.now >= p.startNotBefore) start = n;
      else wakeAt = Math.min(wakeAt, p.startNotBefore);
    }
  } else if (live > p.target && idle.length > 0) {
    idle.sort((a, b) => a.since - b.since);
    for (const r of idle) {
      if (retire.length >= live - p.target) break;
      if (r.phase !== 'idle') continue;
      if (r.retireAfter <= p.now) retire.push(r.name);
      else wakeAt = Math.min(wakeAt, r.retireAfter);
    }
  }
  return { start, retire, retry, expiredHolds, wakeAt, live, removing };
}
