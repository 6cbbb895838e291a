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
  costs: z
    .array(
      z.looseObject({ cause: z.string(), seconds: z.number().nonnegative(), usd: z.number().nonnegative() }),
    )
    .optional(),
  warnings: z.array(z.string()).optional(),
  recentJobs: z.array(job),
  // Optional: a daemon of an older version does not send them.
  counters: z
    .looseObject({ undecodableMessages: count.optional(), invalidJobMessages: count.optional() })
    .optional(),
  lastUndecodable: undecodable.optional(),
  droppedLabels: z.array(z.string()).optional(),
  shape: z
    .looseObject({
      base: z.string(),
      cpu: count,
      ram: count,
      disk: count.optional(),
      arch: z.string().optional(),
    })
    .optional(),
  waiting: z
    .looseObject({
      jobs: count,
      reason: z.string(),
      detail: z.string().optional(),
      text: z.string().optional(),
    })
    .optional(),
});
const limit = z.union([z.number().nonnegative(), z.literal('unlimited'), z.literal('unknown')]);
const use = z.number().nonnegative();
const host = z.looseObject({
  name: z.string(),
  url: z.string(),
  state: z.string(),
  cordoned: z.boolean(),
  error: z.string().optional(),
  budget: z.looseObject({ count: limit, cpus: limit, memory: limit }),
  used: z.looseObject({ count: use, cpus: use, memory: use }),
  scaleSets: z.array(z.string()).optional(),
});
const daemonStatus = z.looseObject({
  version: z.string(),
  startedAt: z.string(),
  healthy: z.boolean(),
  ready: z.boolean(),
  scaleSets: z.array(scaleSet),
  // Optional: absent without hosts, and from a daemon of an older version.
  hosts: z.array(host).optional(),
});
const hostsAnswer = z.looseObject({ hosts: z.array(host) });
const cordonAnswer = z.looseObject({ host });

export type ShownHost = z.infer<typeof host>;

export type ShownStatus = z.infer<typeof daemonStatus>;

/** Throws with the first mismatch as `scaleSets[0].runners: expected array`. */
export function parseStatus(json: unknown): ShownStatus {
  return parseWith(daemonStatus, json);
}

/** The answer of GET /api/hosts. */
export function parseHosts(json: unknown): ShownHost[] {
  return parseWith(hostsAnswer, json).hosts;
}

/** The answer of POST /api/hosts/NAME/cordon|uncordon. */
export function parseCordon(json: unknown): ShownHost {
  return parseWith(cordonAnswer, json).host;
}

function parseWith<T>(schema: z.ZodType<T>, json: unknown): T {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'unexpected shape'}`);
}

/** For fixtures: a DaemonStatus is always a ShownStatus. */
export function shownStatus(status: DaemonStatus): ShownStatus {
  return status as unknown as ShownStatus;
}
