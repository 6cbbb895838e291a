import { Backoff, type BackoffOptions } from '../util/backoff.js';

/**
 * Holds starts back after a failed start, with exponential backoff. One outage is one backoff step:
 * the starts already in flight when it began (up to start-concurrency of them) fail together, and
 * stepping up for each would jump to the maximum wait at once, keeping the scale set down long after
 * the backend is back.
 */
export class StartGate {
  readonly #backoff: Backoff;
  /** Starts may begin at or after this moment (ms epoch). */
  notBefore = 0;
  /** When the backoff last stepped up: starts begun before then fail for the same cause. */
  #steppedAt = Number.NEGATIVE_INFINITY;

  constructor(opts: BackoffOptions) {
    this.#backoff = new Backoff(opts);
  }

  /** A start begun at `startedAt` failed at `now`; returns how long starts now wait. */
  failed(startedAt: number, now: number): number {
    if (startedAt < this.#steppedAt) return Math.max(0, this.notBefore - now);
    const wait = this.#backoff.next();
    this.#steppedAt = now;
    this.notBefore = now + wait;
    return wait;
  }

  succeeded(): void {
    this.#backoff.reset();
  }
}
