import { RunnerError } from '../kernel/errors.js';

export type ServiceErrorCode =
  | 'SERVICE_UNSUPPORTED'
  | 'SERVICE_NEEDS_ROOT'
  | 'SERVICE_EXISTS'
  | 'SERVICE_NOT_INSTALLED';

/** A refusal of `runner service …`; the message says what to run instead. */
export class ServiceError extends RunnerError {
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
  ) {
    super(message);
  }
}
