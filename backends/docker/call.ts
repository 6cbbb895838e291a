import { anySignal } from '../../src/util/abort.js';

/** Bound on one ordinary engine call (create, start, inspect, list, remove). */
export const API_TIMEOUT_MS = 30_000;
/** Bound on one image pull: large runner images over slow links take minutes. */
export const PULL_TIMEOUT_MS = 30 * 60_000;

/** The caller's signal plus a deadline, so no engine call can hang a start or a shutdown. */
export function callSignal(signal: AbortSignal, ms = API_TIMEOUT_MS): AbortSignal {
  return anySignal(signal, AbortSignal.timeout(ms));
}

/**
 * For the few dockerode calls that take no signal (image inspect): the answer is ignored once the
 * signal fires, and the caller moves on with the signal's reason.
 */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
