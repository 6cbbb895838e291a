import { delay } from '../kernel/abort.js';
import { RunnerError } from '../kernel/errors.js';

export interface PollOptions {
  /** Give up after this many ms. */
  timeout: number;
  /** Wait between tries in ms (default 50). */
  interval?: number;
  signal?: AbortSignal;
  /** Said in the timeout error, e.g. "container to exit". */
  what?: string;
}

export class PollTimeoutError extends RunnerError {
  readonly code = 'POLL_TIMEOUT' as const;
  constructor(
    message: string,
    readonly last: unknown,
  ) {
    super(message);
  }
}

/**
 * Calls `fn` until it returns a value other than `undefined`/`false`, then returns that value.
 * The error on timeout says what was awaited and what was seen last, so a failed wait explains itself.
 */
export async function pollUntil<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: PollOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new PollTimeoutError(
        `timed out after ${opts.timeout} ms waiting for ${opts.what ?? 'condition'} (last seen: ${seen})`,
        last,
      );
    }
    await delay(opts.interval ?? 50, opts.signal);
  }
}
