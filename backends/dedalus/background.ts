import type { Logger } from '../../src/log.js';

/** Background work the backend started (watchers, releases, pool steps) that close() waits for. */
export class Background {
  readonly #tasks = new Set<Promise<unknown>>();

  constructor(private readonly log: Logger) {}

  track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.log.error({ err }, 'dedalus background task failed'));
    this.#tasks.add(tracked);
    void tracked.finally(() => this.#tasks.delete(tracked));
  }

  /** Waits until nothing runs (new work started meanwhile included), at most until `bound` aborts. */
  async settle(bound: AbortSignal): Promise<void> {
    const aborted = new Promise((resolve) => bound.addEventListener('abort', resolve, { once: true }));
    while (this.#tasks.size > 0 && !bound.aborted) {
      await Promise.race([Promise.allSettled([...this.#tasks]), aborted]);
    }
  }
}
