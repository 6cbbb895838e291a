/**
 * Work that runs once and is shared by every caller (a backend's preparation: image pull, adoption, pool
 * start). The first caller's arguments (e.g. its signal) start it; later callers share its outcome.
 * A failure is not memoised: the next call tries again.
 */
export class Once<T = void, A extends unknown[] = []> {
  #pending: Promise<T> | undefined;

  constructor(private readonly work: (...args: A) => Promise<T>) {}

  run(...args: A): Promise<T> {
    if (!this.#pending) {
      const p = this.work(...args);
      this.#pending = p;
      p.catch(() => {
        if (this.#pending === p) this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  /** True once a run has started and not failed. */
  get started(): boolean {
    return this.#pending !== undefined;
  }
}
