import { anySignal } from '../../src/kernel/abort.js';

/** Bound on one ordinary engine call (create, start, inspect, list, remove). */
export const API_TIMEOUT_MS = 30_000;
/** Bound on one image pull: large runner images over slow links take minutes. */
export const PULL_TIMEOUT_MS = 30 * 60_000;

/** The caller's signal plus a deadline, so no engine call can hang a start or a shutdown. */
export function callSignal(signal: AbortSignal, ms = API_TIMEOUT_MS): AbortSignal {
  return anySignal(signal, AbortSignal.timeout(ms));
}
