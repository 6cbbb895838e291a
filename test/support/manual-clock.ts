import type { Clock } from '../../src/kernel/clock.js';

/**
 * A clock the test moves by hand. Timers fire in order of their due time when `advance` passes it.
 * `earlyBy` makes every timer fire that many ms before its due time (at most half its wait), as Node's
 * timers may do with a fractional wait: code that trusts a timer to mean "the time has come" fails on
 * this clock.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { due: number; fn: () => void }>();

  constructor(
    start = 1_700_000_000_000,
    private readonly opts: { earlyBy?: number } = {},
  ) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.#seq;
    const wait = Math.max(0, ms);
    // Early, but never at once: real time moves on between arming a timer and its firing.
    const early = Math.min(this.opts.earlyBy ?? 0, wait / 2);
    this.#timers.set(id, { due: this.#now + wait - early, fn });
    return () => this.#timers.delete(id);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#nextDue();
      if (!next || next.due > end) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
    }
    this.#now = end;
  }

  /** Fires timers until none is left or `limit` ms have passed; returns how far time moved. */
  runAll(limit = 3_600_000): number {
    const start = this.#now;
    for (;;) {
      const next = this.#nextDue();
      if (!next || next.due - start > limit) break;
      this.advance(Math.max(0, next.due - this.#now));
    }
    return this.#now - start;
  }

  get pending(): number {
    return this.#timers.size;
  }

  #nextDue(): { id: number; due: number; fn: () => void } | undefined {
    let best: { id: number; due: number; fn: () => void } | undefined;
    for (const [id, t] of this.#timers) if (!best || t.due < best.due) best = { id, ...t };
    return best;
  }
}
