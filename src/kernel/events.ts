import { onAbort } from './abort.js';

export interface EventHubOptions {
  /**
   * Events kept while no subscriber is attached, delivered to the next one (oldest dropped beyond it):
   * a consumer that re-subscribes after an error must not miss what happened in between. 0 keeps none.
   * The same bound applies to each subscriber's own queue, so a stalled consumer costs bounded memory.
   */
  limit?: number;
  /** A listener that throws is reported here; it never throws into the code that emitted. */
  onListenerError?: (err: unknown) => void;
}

/**
 * Fan-out of events to listeners (synchronous callbacks, for the daemon's event stream) and subscribers
 * (async iterators, for backends' exit events). Each subscriber has its own queue, so a slow one never
 * makes another miss an event; a subscription ends when its signal aborts or the hub closes.
 */
export class EventHub<T> {
  readonly #listeners = new Set<(ev: T) => void>();
  readonly #subscribers = new Set<Subscriber<T>>();
  readonly #limit: number;
  readonly #onListenerError: (err: unknown) => void;
  #backlog: T[] = [];
  #closed = false;
  /** Events dropped at a bound since the hub was made (for tests and diagnostics). */
  dropped = 0;

  constructor(opts: EventHubOptions = {}) {
    this.#limit = opts.limit ?? 1024;
    this.#onListenerError = opts.onListenerError ?? (() => {});
  }

  emit(ev: T): void {
    if (this.#closed) return;
    for (const fn of this.#listeners) {
      try {
        fn(ev);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
    if (this.#subscribers.size === 0) {
      if (this.#limit > 0) this.#push(this.#backlog, ev);
      return;
    }
    for (const s of this.#subscribers) {
      this.#push(s.queue, ev);
      s.wake?.();
    }
  }

  /** Calls `fn` for every event from now on; returns the function that stops it. */
  listen(fn: (ev: T) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async *subscribe(signal: AbortSignal): AsyncGenerator<T> {
    if (this.#closed || signal.aborted) return;
    const sub: Subscriber<T> = { queue: this.#backlog, wake: undefined, done: false };
    this.#backlog = [];
    this.#subscribers.add(sub);
    const stop = onAbort(signal, () => {
      sub.done = true;
      sub.wake?.();
    });
    try {
      for (;;) {
        while (sub.queue.length === 0 && !sub.done && !this.#closed) {
          await new Promise<void>((r) => (sub.wake = r));
        }
        sub.wake = undefined;
        // Aborted: stop at once. Closed: deliver what was emitted before the close, then stop.
        if (sub.done || sub.queue.length === 0) return;
        yield sub.queue.shift() as T;
      }
    } finally {
      this.#subscribers.delete(sub);
      stop();
      // Whatever this subscriber had not consumed goes back for the next one.
      if (sub.queue.length > 0 && this.#subscribers.size === 0 && !this.#closed) {
        for (const ev of sub.queue) this.#push(this.#backlog, ev);
      }
    }
  }

  /** Ends every subscription once it has what was emitted so far; later events are ignored. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#backlog = [];
    for (const s of this.#subscribers) s.wake?.();
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  #push(queue: T[], ev: T): void {
    queue.push(ev);
    if (this.#limit > 0 && queue.length > this.#limit) {
      queue.shift();
      this.dropped++;
    }
  }
}

interface Subscriber<T> {
  queue: T[];
  wake: (() => void) | undefined;
  done: boolean;
}
