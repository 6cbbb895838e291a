import { delay } from '../../src/kernel/abort.js';
import { Backoff } from '../../src/util/backoff.js';
import type { DedalusClient } from './api/index.js';
import { type Execution, TERMINAL_STATUSES } from './api/schemas.js';
import { DedalusBackendError, DedalusExecutionFailedError } from './errors.js';

export interface ExecWaitOptions {
  signal: AbortSignal;
  /** Give up at this time (ms since epoch): the execution's timeout_ms plus a margin, never "forever". */
  deadline: number;
  initialMs: number;
  maxMs: number;
  /** Stop early once the status is one of these (e.g. 'running' for "runner online"). */
  until?: ReadonlySet<Execution['status']>;
}

/**
 * Polls an execution until it ends (succeeded, failed, cancelled or expired: the vendor cookbook
 * forgets the last two and loops forever) or reaches `until`. While it waits for a wake or a queue
 * slot, the server's `retry_after_ms` sets the pace; otherwise the wait backs off to `maxMs`.
 */
export async function waitExecution(
  client: DedalusClient,
  machineId: string,
  start: Execution,
  o: ExecWaitOptions,
): Promise<Execution> {
  const backoff = new Backoff({ initial: o.initialMs, max: o.maxMs, jitter: 0.1 });
  let e = start;
  let last = e.status;
  while (!TERMINAL_STATUSES.has(e.status) && !o.until?.has(e.status)) {
    const now = Date.now();
    if (now >= o.deadline) {
      throw new DedalusBackendError(
        'DEDALUS_TIMEOUT',
        `execution ${e.execution_id} on ${machineId} still ${e.status} at its deadline`,
      );
    }
    const hinted = e.status === 'wake_in_progress' || e.status === 'queued' ? e.retry_after_ms : undefined;
    const wait = Math.min(hinted ?? backoff.next(), o.maxMs, o.deadline - now);
    await delay(Math.max(wait, 0), o.signal);
    e = await client.executions.retrieve(machineId, e.execution_id, o.signal);
    if (e.status !== last) {
      // A change of state is news: look again soon.
      backoff.reset();
      last = e.status;
    }
  }
  return e;
}

/** "succeeded" with exit 0 and no signal; anything else, with the output's tail to say why. */
export async function assertSucceeded(
  client: DedalusClient,
  machineId: string,
  e: Execution,
  what: string,
  signal: AbortSignal,
): Promise<void> {
  if (e.status === 'succeeded' && (e.exit_code ?? 0) === 0 && e.signal === undefined) return;
  let tail = '';
  try {
    const out = await client.executions.output(machineId, e.execution_id, signal);
    const text = (out.stderr || out.stdout || '').trim();
    tail = text.slice(-1000) + (out.stderr_truncated || out.stdout_truncated ? ' (output truncated)' : '');
  } catch {
    // The output is a courtesy for the message; the failure itself is what we report.
  }
  const details = [`status ${e.status}`];
  if (e.exit_code !== undefined) details.push(`exit ${e.exit_code}`);
  if (e.signal !== undefined) details.push(`signal ${e.signal}`);
  if (e.error_code) details.push(e.error_code);
  throw new DedalusExecutionFailedError(
    `${what} on ${machineId} failed (${details.join(', ')})${tail ? `: ${tail}` : ''}`,
    e.exit_code,
  );
}
