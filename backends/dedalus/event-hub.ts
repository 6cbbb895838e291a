import type { RunnerEvent } from '../types.js';

/** Events kept for the next subscriber while nobody listens (the scaler re-subscribes after errors). */
const BACKLOG = 256;

/**
 * Fans runner events out to every `events()` iterator. Events emitted while nobody is subscribed are
 * kept (bounded) for the next subscriber, so an exit between two subscriptions is not lost.
 */
export class EventHub {
  readonly #subscribers = new Set<(e: RunnerEvent) => void>();
  #backlog: RunnerEvent[] = [];

  emit(e: RunnerEvent): void {
    if (this.#subscribers.size === 0) {
      this.#backlog.push(e);
      if (this.#backlog.length > BACKLOG) this.#backlog.shift();
      return;
    }
    for (const s of this.#subscribers) s(e);
  }

  async *subscribe(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    const queue: RunnerEvent[] = this.#backlog;
    this.#backlog = [];
    let wake: (() => void) | undefined;
    const push = (e: RunnerEvent) => {
      queue.push(e);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.#subscribers.add(push);
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.#subscribers.delete(push);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
