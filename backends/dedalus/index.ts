import type { BackendContext } from '../types.js';
import { DedalusBackend } from './backend.js';
import type { DedalusBackendOptions } from './options.js';

export { DedalusBackend, type DedalusMetrics } from './backend.js';
export { DedalusBackendError, type DedalusBackendErrorCode } from './errors.js';
export type { JobFigures } from './figures.js';
export { DEFAULT_TIMING, type DedalusBackendOptions, type DedalusTiming } from './options.js';

/**
 * The Dedalus backend for one scale set. The result is a RunnerBackend plus `metrics()` (per-job
 * figures, counters and pool counts, not exported as metrics yet) and `ownedMachines()` (the state
 * file's machine records).
 */
export function createDedalusBackend(ctx: BackendContext, opts: DedalusBackendOptions): DedalusBackend {
  return new DedalusBackend(ctx, opts);
}
