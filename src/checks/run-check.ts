import { raceAbort } from '../kernel/abort.js';
import type { CheckResult, Outcome } from './result.js';

export interface CheckSpec {
  id: string;
  scaleSet?: string;
  title: string;
  /** Gets a signal that aborts at the timeout; it should pass it to every call it makes. */
  run: (signal: AbortSignal) => Promise<Outcome>;
}

/**
 * Runs one check within `timeoutMs`. A check that throws or overruns is a ✗ with what was seen, never
 * an exception: one broken check must not hide the others.
 */
export async function runCheck(
  spec: CheckSpec,
  timeoutMs: number,
  parent?: AbortSignal,
): Promise<CheckResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = parent ? AbortSignal.any([parent, timeout]) : timeout;
  let outcome: Outcome;
  try {
    // A call that ignores its signal still ends the check at the deadline.
    outcome = await raceAbort(spec.run(signal), signal);
  } catch (err) {
    outcome = timeout.aborted
      ? {
          status: 'fail',
          detail: `no answer within ${formatSeconds(timeoutMs)}`,
          hint: 'check that the service is up and reachable from this host, or raise --timeout',
        }
      : { status: 'fail', detail: err instanceof Error ? err.message : String(err) };
  }
  const { title, ...rest } = outcome;
  return {
    id: spec.id,
    ...(spec.scaleSet !== undefined ? { scaleSet: spec.scaleSet } : {}),
    title: title ?? spec.title,
    ...rest,
    ms: Math.round(performance.now() - started),
  };
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
