/** A wake-up for whoever waits: `wait()` resolves at the next `fire()` (or when `signal` aborts). */
export class Pulse {
  #resolve: (() => void) | undefined;
  #promise: Promise<void> | undefined;

  wait(signal?: AbortSignal): Promise<void> {
    this.#promise ??= new Promise((resolve) => {
      this.#resolve = resolve;
    });
    if (!signal) return this.#promise;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      void this.#promise?.then(done);
    });
  }

  fire(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
