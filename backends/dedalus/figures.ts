import type { StartTier } from '../types.js';
import type { ComputeUsageRow } from './api/schemas.js';

/**
 * How a machine held awake by a refused sleep stopped being the ended job's cost: put to sleep once
 * eligible, claimed by the next job, kept for the warm tier, deleted, gone at Dedalus, or handed to
 * the platform's autosleep at shutdown.
 */
export type HoldEnd = 'asleep' | 'claimed' | 'kept warm' | 'deleted' | 'gone' | 'closed';

/**
 * What one runner cost and how fast it came up. Each record is logged as "dedalus job figures"
 * (release.ts) and the last 100 are kept for `DedalusBackend.metrics().lastJobFigures` (newest last),
 * which only the tests read so far; no metric is exported from them.
 */
export interface JobFigures {
  runner: string;
  machineId: string;
  tier: StartTier;
  /** start() called. */
  claimedAt: string;
  /** Sleeping → running, for 'woken' starts. */
  wakeMs?: number;
  /** Create + provision, for 'cold' starts. */
  createMs?: number;
  /** start() called → runner execution running ("runner online"). */
  onlineMs?: number;
  endedAt?: string;
  exitCode?: number;
  reason?: string;
  /**
   * Our own measure: machine awake from claim until asleep again after the runner, or until the next
   * job or the warm tier took it over. Includes holdWindowSeconds.
   */
  awakeSeconds?: number;
  /** awakeSeconds at the list prices below: an estimate, not a bill. Includes holdWindowCostUsd. */
  estimatedCostUsd?: number;
  /**
   * Seconds the machine stayed awake after the job because the platform refused to sleep it (its
   * sleep hold window after a wake): from the refused sleep until the machine was asleep, or taken by
   * the next job or the warm tier. Absent when the sleep was not held.
   */
  holdWindowSeconds?: number;
  /** holdWindowSeconds at the list prices: what the hold window cost on this job. */
  holdWindowCostUsd?: number;
  /** How the hold ended: the deferred sleep, the next job, the warm tier, a delete, or shutdown. */
  holdWindowEnd?: HoldEnd;
  /**
   * The usage API's view of the machine for the hour buckets the job touched, when it answers. It may
   * lag and includes anything else the machine did in those hours.
   */
  usage?: { awakeSeconds: number; costUsd: number; rows: number };
}

/**
 * List prices in USD per vCPU-hour and per GiB-hour of memory (billed per second, nothing while
 * asleep), as a third party transcribed Dedalus's pricing page; README.md "Cost arithmetic".
 */
export const PRICE_PER_VCPU_HOUR = 0.04536;
export const PRICE_PER_GIB_HOUR = 0.01458;

export function estimateCost(awakeSeconds: number, vcpu: number, memoryMib: number): number {
  const hours = awakeSeconds / 3600;
  return round6(hours * (vcpu * PRICE_PER_VCPU_HOUR + (memoryMib / 1024) * PRICE_PER_GIB_HOUR));
}

/** Sums usage rows (CPU millicore-seconds and memory MiB-seconds) into awake seconds and dollars. */
export function usageCost(
  rows: readonly Pick<ComputeUsageRow, 'awake_seconds' | 'cpu_millicore_seconds' | 'memory_mib_seconds'>[],
): { awakeSeconds: number; costUsd: number; rows: number } {
  let awake = 0;
  let cost = 0;
  for (const r of rows) {
    awake += r.awake_seconds;
    cost += ((r.cpu_millicore_seconds ?? 0) / 1000 / 3600) * PRICE_PER_VCPU_HOUR;
    cost += ((r.memory_mib_seconds ?? 0) / 1024 / 3600) * PRICE_PER_GIB_HOUR;
  }
  return { awakeSeconds: awake, costUsd: round6(cost), rows: rows.length };
}

/** The last `size` jobs' figures, oldest first. */
export class FiguresLog {
  readonly #items: JobFigures[] = [];
  constructor(private readonly size = 100) {}

  add(f: JobFigures): void {
    this.#items.push(f);
    if (this.#items.length > this.size) this.#items.shift();
  }

  list(): readonly JobFigures[] {
    return this.#items;
  }
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
