import { z } from 'zod';

/**
 * Response shapes of the Dedalus Machines API, as the official TypeScript SDK 0.4.0 types them.
 * We validate what we act on and tolerate what we don't: an enum value we have never seen becomes
 * 'unknown' (treated as "not there yet") instead of failing a whole list, while a missing id or a
 * wrong type is an error.
 */

/** The docs say `dm-` + [a-z0-9-]; newer SDKs say an optional `dm-` before a UUID. Both fit this. */
export const MACHINE_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const nullableArray = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => v ?? []);
const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);
/** A field that is dropped (undefined) when absent, null or of another type. */
function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}
const optionalInt = z
  .number()
  .int()
  .nullish()
  .transform((v) => v ?? undefined);

export const MACHINE_PHASES = [
  'accepted',
  'placement_pending',
  'starting',
  'running',
  'stopping',
  'sleeping',
  'destroying',
  'destroyed',
  'failed',
] as const;
export const MachinePhase = z.enum([...MACHINE_PHASES, 'unknown']).catch('unknown');
export type MachinePhase = z.infer<typeof MachinePhase>;

export const Machine = z.object({
  machine_id: z.string().min(4).max(253).regex(MACHINE_ID),
  vcpu: z.number().optional(),
  memory_mib: z.number().int().optional(),
  storage_gib: z.number().int().optional(),
  autosleep_seconds: optionalInt,
  desired_state: z.enum(['running', 'sleeping', 'destroyed', 'unknown']).catch('unknown'),
  created_at: optionalString,
  status: z.object({
    phase: MachinePhase,
    reason: optionalString,
    retryable: z.boolean().nullish(),
    revision: optionalString,
    last_transition_at: optionalString,
    last_progress_at: optionalString,
    last_error: optionalString,
  }),
});
export type Machine = z.infer<typeof Machine>;

export const MachineList = z.object({ items: nullableArray(Machine), next_cursor: optionalString });
export type MachineList = z.infer<typeof MachineList>;

export const EXECUTION_STATUSES = [
  'wake_in_progress',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'expired',
] as const;
export const ExecutionStatus = z.enum([...EXECUTION_STATUSES, 'unknown']).catch('unknown');
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

/**
 * The four end states. The vendor's cron cookbook polls only until "succeeded" or "failed", so it
 * loops forever on the last two.
 */
export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'expired',
]);

export const Execution = z.object({
  /** Opaque: the docs give no format, so any non-empty string is taken (and escaped in URLs). */
  execution_id: z.string().min(1),
  machine_id: z.string(),
  status: ExecutionStatus,
  created_at: optionalString,
  started_at: optionalString,
  completed_at: optionalString,
  exit_code: optionalInt,
  signal: optionalInt,
  error_code: optionalString,
  error_message: optionalString,
  retry_after_ms: optionalInt,
  stdout_truncated: z.boolean().nullish(),
  stderr_truncated: z.boolean().nullish(),
});
export type Execution = z.infer<typeof Execution>;

export const ExecutionList = z.object({ items: nullableArray(Execution), next_cursor: optionalString });
export type ExecutionList = z.infer<typeof ExecutionList>;

export const ExecutionEvent = z.object({
  sequence: z.number().int(),
  type: z.enum(['lifecycle', 'stdout', 'stderr', 'unknown']).catch('unknown'),
  at: optionalString,
  chunk: optionalString,
  status: ExecutionStatus.optional(),
  exit_code: optionalInt,
  signal: optionalInt,
});
export type ExecutionEvent = z.infer<typeof ExecutionEvent>;

export const ExecutionEvents = z.object({
  items: nullableArray(ExecutionEvent),
  next_cursor: optionalString,
});
export type ExecutionEvents = z.infer<typeof ExecutionEvents>;

export const ExecutionOutput = z.object({
  stdout: optionalString,
  stderr: optionalString,
  stdout_truncated: z.boolean().nullish(),
  stderr_truncated: z.boolean().nullish(),
});
export type ExecutionOutput = z.infer<typeof ExecutionOutput>;

export const ComputeUsageRow = z.object({
  machine_id: z.string(),
  awake_seconds: z.number(),
  cpu_millicore_seconds: z.number().optional(),
  memory_mib_seconds: z.number().optional(),
  bucket_start: optionalString,
  bucket_end: optionalString,
});
export type ComputeUsageRow = z.infer<typeof ComputeUsageRow>;

export const ComputeUsage = z.object({ rows: nullableArray(ComputeUsageRow) });

/**
 * Typed 4xx/503 bodies, or an RFC 9457 problem for the `default` response. Read field by field: a
 * field of an unexpected type is dropped rather than losing the whole body (and with it the
 * `error_code` that says what happened). `retry_after_ms` is int64, which JSON encoders for protobuf
 * write as a string, so a numeric string is taken too. `details` is a map of strings (the sleep hold
 * window puts `next_sleep_eligible_at` and `remaining_ms` there); other values are kept as text.
 */
export const ErrorBody = z.object({
  error_code: lenient(z.string()),
  message: lenient(z.string()),
  retryable: lenient(z.boolean()),
  retry_after_ms: lenient(
    z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.number().nonnegative()),
  ),
  title: lenient(z.string()),
  detail: lenient(z.string()),
  details: lenient(
    z.record(
      z.string(),
      z.unknown().transform((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    ),
  ),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Body of POST /v1/machines. `autosleep` is a duration string ("30s", "1800") or "never". */
export interface CreateMachineBody {
  vcpu: number;
  memory_mib: number;
  storage_gib: number;
  autosleep?: string;
}

export interface UpdateMachineBody {
  vcpu?: number;
  memory_mib?: number;
  storage_gib?: number;
  autosleep?: string;
}

/** execve semantics, no shell. Secrets go in `env` or `stdin`: argv is logged by whoever looks. */
export interface CreateExecutionBody {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
  timeout_ms?: number;
}
