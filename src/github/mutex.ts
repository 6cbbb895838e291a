import { raceAbort } from '../kernel/abort.js';

/** A FIFO async mutex whose waiters can give up their place on abort. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await raceAbort(previous, signal);
    } catch (err) {
      // Our slot is already in the chain: it frees when the holder ahead of us finishes, not now.
      void previous.then(release);
      throw err;
    }
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
