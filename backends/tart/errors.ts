import { RunnerError } from '../../src/kernel/errors.js';
/** Stable codes of the Tart backend's errors; callers switch on `code`, not on the class. */
export type TartErrorCode =
  | 'TART_COMMAND_FAILED'
  | 'TART_BOOT_FAILED'
  | 'TART_IMAGE_UNAVAILABLE'
  | 'TART_STATE_CORRUPT';

export class TartError extends RunnerError {
  constructor(
    readonly code: TartErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A `tart` invocation that failed. The message names the subcommand and VM but never the full argv:
 * scripts passed to `tart exec` are long, and nothing on a command line should be echoed into logs.
 */
export class TartCommandError extends TartError {
  constructor(
    readonly subcommand: string,
    readonly vm: string | undefined,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    const what = `tart ${subcommand}${vm ? ` ${vm}` : ''}`;
    const how = options?.detail ?? (exitCode === undefined ? 'failed' : `exited ${exitCode}`);
    super('TART_COMMAND_FAILED', `${what} ${how}${stderr ? `: ${stderr}` : ''}`, options);
  }

  /** tart's RuntimeError.VMDoesNotExist (exit 2). */
  get vmMissing(): boolean {
    return this.exitCode === 2 && /does not exist/.test(this.stderr);
  }

  /** tart's RuntimeError.VMNotRunning (exit 2). */
  get vmNotRunning(): boolean {
    return this.exitCode === 2 && /is not running/.test(this.stderr);
  }
}
