export interface BackoffOptions {
  /** First delay in ms. */
  initial: number;
  /** Cap in ms. */
  max: number;
  /** Multiplier per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay randomised (0 = none, 0.2 = ±20 %). */
  jitter?: number;
  random?: () => number;
}

/** Delay before retry number `attempt` (0-based): min(initial·factor^attempt, max), with jitter. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const base = Math.min(opts.initial * (opts.factor ?? 2) ** attempt, opts.max);
  const jitter = opts.jitter ?? 0;
  if (jitter === 0) return base;
  const r = (opts.random ?? Math.random)();
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * r)));
}

/** Stateful backoff for loops that reset after a success. */
export class Backoff {
  #attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  next(): number {
    return backoffDelay(this.#attempt++, this.opts);
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
