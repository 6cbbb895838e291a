import type { TierTargets } from './schedule.js';

/** An idle pool machine as the planner sees it. */
export interface PoolMember {
  id: string;
  awake: boolean;
  jobs: number;
  /** ms since epoch. */
  createdAt: number;
  failed: boolean;
  /**
   * Awake, and its sleep was refused until later (the platform's hold window): it cannot be put to
   * sleep now, so it serves the warm tier first, and a timer brings it back to the plan when due.
   */
  held?: boolean;
}

export interface PoolInput {
  idle: readonly PoolMember[];
  /** Machines hosting a runner or being prepared for one: they hold the warm tier's runners. */
  busy: number;
  /** Being created (pool or cold start). */
  creating: number;
  /** Releasing or being deleted: they still exist, so they count against max. */
  draining: number;
  /** Starts in flight: pool creates wait for them, so a burst gets the machines max allows. */
  startsInFlight: number;
  targets: TierTargets;
  max: number;
  recycleAfterJobs: number;
  recycleAfter: number;
  now: number;
}

export interface PoolPlan {
  wake: string[];
  sleep: string[];
  create: number;
  delete: { id: string; reason: string }[];
}

/**
 * One step towards the tiers, as a pure function. Warm: awake idle machines, as many as the warm tier
 * needs beyond the machines already holding runners (the scaler keeps `warm` idle runners, and each
 * sits on an awake machine); a machine held awake by the sleep hold window is one of them. Sleeping: at least that many provisioned machines asleep; extra sleepers
 * (left by a burst) stay, since asleep they cost only storage. Recycling and failures are deletions;
 * the next steps replace them.
 */
export function planPool(p: PoolInput): PoolPlan {
  const plan: PoolPlan = { wake: [], sleep: [], create: 0, delete: [] };
  const keep: PoolMember[] = [];
  for (const m of p.idle) {
    const reason = m.failed
      ? 'machine failed'
      : p.recycleAfterJobs > 0 && m.jobs >= p.recycleAfterJobs
        ? `recycle after ${p.recycleAfterJobs} jobs`
        : p.recycleAfter > 0 && p.now - m.createdAt >= p.recycleAfter
          ? 'recycle after age'
          : undefined;
    if (reason) plan.delete.push({ id: m.id, reason });
    else keep.push(m);
  }
  const total = p.idle.length + p.busy + p.creating + p.draining;

  const wantAwake = Math.max(0, p.targets.warm - p.busy);
  const awake = keep.filter((m) => m.awake);
  const asleep = keep.filter((m) => !m.awake);
  if (awake.length > wantAwake) {
    // Held machines stay awake whatever we ask, so they are the warm ones (at no extra cost); among
    // the others, those that stay awake take the next jobs: keep the hottest caches (most jobs).
    const sleepable = awake.filter((m) => !m.held).sort((a, b) => a.jobs - b.jobs);
    plan.sleep.push(...sleepable.slice(0, awake.length - wantAwake).map((m) => m.id));
  } else if (awake.length < wantAwake) {
    const wake = [...asleep].sort((a, b) => b.jobs - a.jobs).slice(0, wantAwake - awake.length);
    plan.wake.push(...wake.map((m) => m.id));
  }

  const over = total - p.max;
  if (over > 0) {
    const spare = asleep.filter((m) => !plan.wake.includes(m.id)).slice(0, over);
    plan.delete.push(...spare.map((m) => ({ id: m.id, reason: 'more machines than dedalus.max' })));
  }

  const have = keep.length + p.creating;
  const want = p.targets.sleeping + wantAwake;
  if (p.startsInFlight === 0 && have < want) plan.create = Math.max(0, Math.min(want - have, p.max - total));
  return plan;
}
