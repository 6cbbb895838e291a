import { settleWithin } from './abort.js';

/**
 * Background work a component started (watchers, removals, pool steps) and must wait for before it
 * reports itself stopped. A task's failure goes to `onError`; it never becomes an unhandled rejection.
 */
export class TaskTracker {
  readonly #tasks = new Set<Promise<void>>();

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Tracks `p` until it settles; returns a promise that settles with it and never rejects. */
  track(p: Promise<unknown>): Promise<void> {
    const tracked = p.then(
      () => {},
      (err: unknown) => this.onError(err),
    );
    this.#tasks.add(tracked);
    void tracked.finally(() => this.#tasks.delete(tracked));
    return tracked;
  }

  get size(): number {
    return this.#tasks.size;
  }

  /**
   * Waits until nothing runs, tasks started meanwhile included, at most until `bound` aborts (when
   * given). True when everything settled.
   */
  async settle(bound?: AbortSignal): Promise<boolean> {
    while (this.#tasks.size > 0) {
      const all = Promise.all(this.#tasks);
      if (!bound) await all;
      else if (!(await settleWithin(all, bound))) return false;
    }
    return true;
  }
}
