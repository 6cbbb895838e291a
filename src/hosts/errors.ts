import { RunnerError } from '../kernel/errors.js';

/**
 * `HOST_UNKNOWN`: no scale set of the daemon has a host of that name; `HOST_CORDON_SAVE`: the cordon
 * could not be written to the state dir (nothing changed); `HOST_UNSUPPORTED`: no backend of the daemon
 * has hosts.
 */
export type HostsErrorCode = 'HOST_UNKNOWN' | 'HOST_CORDON_SAVE' | 'HOST_UNSUPPORTED';

export class HostsError extends RunnerError {
  constructor(
    readonly code: HostsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
