import type { FakeExecution, FakeMachine } from './types.js';

/** Machine (LifecycleResponse) as the API returns it, plus `created_at` (MachineListItem). */
export function machineJson(m: FakeMachine): Record<string, unknown> {
  return {
    machine_id: m.id,
    vcpu: m.vcpu,
    memory_mib: m.memoryMib,
    storage_gib: m.storageGib,
    autosleep_seconds: m.autosleepSeconds,
    desired_state: m.desired,
    created_at: m.createdAt.toISOString(),
    status: {
      phase: m.phase,
      reason: m.reason,
      retryable: m.phase !== 'failed',
      revision: String(m.revision),
      last_transition_at: m.lastTransitionAt.toISOString(),
      last_progress_at: m.lastTransitionAt.toISOString(),
      ...(m.phase === 'failed' ? { last_error: m.reason } : {}),
    },
  };
}

export function executionJson(e: FakeExecution, wakeRetryAfterMs: number): Record<string, unknown> {
  const j: Record<string, unknown> = {
    execution_id: e.id,
    machine_id: e.machineId,
    command: e.command,
    created_at: e.createdAt.toISOString(),
    status: e.status,
    env_keys: Object.keys(e.env),
    stdout_bytes: Buffer.byteLength(e.stdout),
    stderr_bytes: Buffer.byteLength(e.stderr),
    stdout_truncated: false,
    stderr_truncated: false,
  };
  if (e.cwd !== undefined) j.cwd = e.cwd;
  if (e.startedAt) j.started_at = e.startedAt.toISOString();
  if (e.completedAt) j.completed_at = e.completedAt.toISOString();
  if (e.exitCode !== undefined) j.exit_code = e.exitCode;
  if (e.signal !== undefined) j.signal = e.signal;
  if (e.errorCode !== undefined) j.error_code = e.errorCode;
  if (e.errorMessage !== undefined) j.error_message = e.errorMessage;
  if (e.status === 'wake_in_progress') j.retry_after_ms = wakeRetryAfterMs;
  return j;
}

/** Opaque cursors: base64 of an offset, so clients cannot do arithmetic on them. */
export function page<T>(
  items: T[],
  query: Record<string, string>,
  maxLimit: number,
): { items: T[]; next_cursor?: string } {
  const limit = Math.max(1, Math.min(Number(query.limit ?? maxLimit) || maxLimit, maxLimit));
  const offset = query.cursor ? Number(Buffer.from(query.cursor, 'base64url').toString('utf8')) || 0 : 0;
  const slice = items.slice(offset, offset + limit);
  const next =
    offset + limit < items.length ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;
  return next ? { items: slice, next_cursor: next } : { items: slice };
}
