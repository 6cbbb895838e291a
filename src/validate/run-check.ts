import type { CheckResult, Outcome } from './types.js';

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
    outcome = await Promise.race([spec.run(signal), rejectOnAbort(signal)]);
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

/** A call that ignores its signal still ends the check at the deadline. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
