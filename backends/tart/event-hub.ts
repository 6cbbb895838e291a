/**
 * Fan-out of pushed events to every `events()` subscriber. Each subscriber has its own queue, so a slow
 * consumer never makes another miss an event; a subscription ends when its signal aborts or the hub closes.
 */
export class EventHub<T> {
  readonly #subs = new Set<(ev: T | undefined) => void>();
  #closed = false;

  emit(ev: T): void {
    for (const push of this.#subs) push(ev);
  }

  close(): void {
    this.#closed = true;
    for (const push of this.#subs) push(undefined);
    this.#subs.clear();
  }

  async *subscribe(signal: AbortSignal): AsyncGenerator<T> {
    if (this.#closed || signal.aborted) return;
    const queue: (T | undefined)[] = [];
    let wake: (() => void) | undefined;
    const push = (ev: T | undefined) => {
      queue.push(ev);
      wake?.();
    };
    const onAbort = () => push(undefined);
    this.#subs.add(push);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        const ev = queue.shift();
        if (ev === undefined) return;
        yield ev;
      }
    } finally {
      this.#subs.delete(push);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
