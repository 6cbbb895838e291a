import { RunnerError } from '../kernel/errors.js';

export type UpdateErrorCode =
  | 'UPDATE_NOT_BINARY'
  | 'UPDATE_UNSUPPORTED_PLATFORM'
  | 'UPDATE_HTTP'
  | 'UPDATE_NETWORK'
  | 'UPDATE_TIMEOUT'
  | 'UPDATE_TOO_LARGE'
  | 'UPDATE_BAD_METADATA'
  | 'UPDATE_CHECKSUM_MISSING'
  | 'UPDATE_CHECKSUM_MISMATCH'
  | 'UPDATE_BAD_ARCHIVE'
  | 'UPDATE_DOWNGRADE'
  | 'UPDATE_NOT_CONFIRMED'
  | 'UPDATE_WRITE';

/** Why `runner update` stopped; nothing has been written when it is thrown. The message says what to do. */
export class UpdateError extends RunnerError {
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
