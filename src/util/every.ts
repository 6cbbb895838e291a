import { delay, isAbortError } from '../kernel/abort.js';

/**
 * Runs `fn` now and then every `interval` ms until the signal aborts. Errors from `fn` go to `onError`
 * and never stop the loop. A `kick()` runs it early (coalesced), so event-driven and timed work share one loop.
 */
export function every(
  interval: number,
  fn: () => Promise<void>,
  opts: { signal: AbortSignal; onError: (err: unknown) => void; runNow?: boolean },
): { kick: () => void; done: Promise<void> } {
  let wake: (() => void) | undefined;
  let kicked = false;
  const kick = () => {
    kicked = true;
    wake?.();
  };
  const done = (async () => {
    let first = opts.runNow ?? true;
    while (!opts.signal.aborted) {
      if (!first && !kicked) {
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        try {
          await Promise.race([delay(interval, opts.signal), woken]);
        } catch (err) {
          if (isAbortError(err) || opts.signal.aborted) return;
          throw err;
        } finally {
          wake = undefined;
        }
      }
      first = false;
      kicked = false;
      if (opts.signal.aborted) return;
      try {
        await fn();
      } catch (err) {
        opts.onError(err);
      }
    }
  })();
  return { kick, done };
}
