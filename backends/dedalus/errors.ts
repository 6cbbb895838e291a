import { RunnerError } from '../../src/kernel/errors.js';
/** Stable codes of the Dedalus backend's own errors (API errors carry DEDALUS_HTTP and friends). */
export type DedalusBackendErrorCode =
  | 'DEDALUS_CONFIG'
  | 'DEDALUS_STATE_CORRUPT'
  | 'DEDALUS_PROVISION_FAILED'
  | 'DEDALUS_MACHINE_FAILED'
  | 'DEDALUS_EXECUTION_FAILED'
  | 'DEDALUS_RUNNER_MISSING'
  | 'DEDALUS_TIMEOUT'
  | 'DEDALUS_CLOSED';

export class DedalusBackendError extends RunnerError {
  constructor(
    readonly code: DedalusBackendErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An execution we ran to completion (provision, scrub) that did not succeed. */
export class DedalusExecutionFailedError extends DedalusBackendError {
  constructor(
    message: string,
    readonly exitCode: number | undefined,
  ) {
    super('DEDALUS_EXECUTION_FAILED', message);
  }
}
