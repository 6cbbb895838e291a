import { z } from 'zod';
import type { DaemonStatus } from '../health/status-types.js';

/**
 * The parts of DaemonStatus that `runner status` shows, checked on arrival: a daemon of another
 * version may send a different shape, and that should read as a clear message, not a crash.
 * Unknown fields pass through untouched, so `--json` can print what the daemon sent.
 */
const count = z.number().int().nonnegative();
const runner = z.looseObject({
  name: z.string(),
  state: z.string(),
  tier: z.string().optional(),
  since: z.string(),
  jobRequestId: z.number().optional(),
});
const job = z.looseObject({
  requestId: z.number(),
  repository: z.string().optional(),
  jobDisplayName: z.string().optional(),
  runnerName: z.string().optional(),
  result: z.string().optional(),
  state: z.string().optional(),
  queuedAt: z.string().optional(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  pickupMs: z.number().optional(),
  executionMs: z.number().optional(),
});
const undecodable = z.looseObject({
  kind: z.string(),
  messageId: z.number(),
  jobIndex: z.number().optional(),
  runnerRequestId: z.number().optional(),
  reason: z.string(),
  at: z.string(),
});
const scaleSet = z.looseObject({
  name: z.string(),
  backend: z.string(),
  phase: z.string(),
  healthy: z.boolean(),
  reason: z.string().optional(),
  minRunners: count,
  maxRunners: count,
  desiredRunners: count,
  runners: z.array(runner),
  runnerCounts: z.record(z.string(), count),
  pool: z.record(z.string(), count),
  warnings: z.array(z.string()).optional(),
  recentJobs: z.array(job),
  // Optional: a daemon of an older version does not send them.
  counters: z
    .looseObject({ undecodableMessages: count.optional(), invalidJobMessages: count.optional() })
    .optional(),
  lastUndecodable: undecodable.optional(),
  droppedLabels: z.array(z.string()).optional(),
});
const daemonStatus = z.looseObject({
  version: z.string(),
  startedAt: z.string(),
  healthy: z.boolean(),
  ready: z.boolean(),
  scaleSets: z.array(scaleSet),
});

export type ShownStatus = z.infer<typeof daemonStatus>;

/** Throws with the first mismatch as `scaleSets[0].runners: expected array`. */
export function parseStatus(json: unknown): ShownStatus {
  const r = daemonStatus.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'unexpected shape'}`);
}

/** For fixtures: a DaemonStatus is always a ShownStatus. */
export function shownStatus(status: DaemonStatus): ShownStatus {
  return status as unknown as ShownStatus;
}
