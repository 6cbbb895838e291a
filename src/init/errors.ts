import { RunnerError } from '../kernel/errors.js';

export type InitErrorCode =
  /** Flags that are wrong, missing without a terminal to ask on, or not used by the answers. */
  | 'INIT_USAGE'
  /** The output file exists and neither --force nor a confirmation allowed replacing it. */
  | 'INIT_EXISTS';

/** A refusal of `runner init`; the message says which flags to pass or what to run instead. */
export class InitError extends RunnerError {
  constructor(
    readonly code: InitErrorCode,
    message: string,
  ) {
    super(message);
  }
}
