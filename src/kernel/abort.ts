/**
 * Cancellation helpers. Every wait that listens to a signal goes through `onAbort`, which always removes
 * its listener once the wait is over: a long-lived signal (the daemon's) must not collect one listener
 * per call it ever bounded.
 */

/** Calls `fn` once when `signal` aborts; returns the function that stops listening. */
export function onAbort(signal: AbortSignal, fn: (reason: unknown) => void): () => void {
  if (signal.aborted) {
    fn(signal.reason);
    return () => {};
  }
  const listener = () => fn(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts. The work behind
 * `promise` carries on: use it for shared work (a token refresh, a lock) that one caller must not cancel,
 * and for calls that take no signal (some dockerode calls).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // The abandoned promise may still reject; that must not become an unhandled rejection.
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const stop = onAbort(signal, reject);
    promise.then(resolve, reject).finally(stop);
  });
}

/**
 * Waits for `promise` to settle, but no longer than `bound` allows; never rejects. True when it settled
 * in time. For bounded waits on work that reports its own errors elsewhere (shutdown, close()).
 */
export async function settleWithin(promise: Promise<unknown>, bound: AbortSignal): Promise<boolean> {
  try {
    await raceAbort(
      promise.then(
        () => {},
        () => {},
      ),
      bound,
    );
    return true;
  } catch {
    return false;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    if (signal) {
      stop = onAbort(signal, (reason) => {
        clearTimeout(timer);
        reject(reason);
      });
    }
  });
}

/** A timer that never keeps the process alive; resolves after `ms`. */
export function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' ||
      err.name === 'TimeoutError' ||
      (err as { code?: string }).code === 'ABORT_ERR')
  );
}

/** A signal that aborts when any of the given signals aborts (undefined entries ignored). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}
