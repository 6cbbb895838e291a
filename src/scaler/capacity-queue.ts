/**
 * One line per process for the scale sets whose runners draw on one budget (the job shapes of one
 * Docker host, one Mac's VM limit, one Dedalus account), so that when the budget is full, waiting jobs
 * start in the order GitHub queued them, across scale sets.
 *
 * The policy (README "Job shapes"):
 * - A scale set whose start found the budget full waits in line, ranked by the queue time of its
 *   oldest job still waiting for a runner (`since`).
 * - While it waits, no scale set whose oldest waiting job is younger starts a runner on a budget it
 *   shares with it: the room that frees is reserved for the older job, so a stream of small jobs never
 *   starves a big one. Sets on budgets it does not share are not held back.
 * - Warm runners (min-runners, a warm schedule) wait behind every job: their `since` is Infinity.
 * - A set leaves the line when its start succeeds with nothing more waiting, when its waiting demand
 *   goes, or when a start fails for another reason than capacity (an error must not hold others).
 * - Whoever frees room on a budget (a runner removed) says so, and every set in line looks again,
 *   the oldest first.
 *
 * Clock-free: the scalers call it from their converge step, and are told of changes in a microtask
 * (once per burst of changes), never from inside the call that made the change.
 */
export class CapacityQueue {
  readonly #line = new Map<string, Waiter>();
  readonly #listeners = new Set<() => void>();
  #notifying = false;

  /** `set` waits for room on `budgets` for its job queued at `since` (ms epoch; Infinity: warm capacity). */
  wait(set: string, since: number, budgets: readonly string[]): void {
    const had = this.#line.get(set);
    if (had && had.since === since && sameBudgets(had.budgets, budgets)) return;
    this.#line.set(set, { set, since, budgets: new Set(budgets) });
    this.#notify();
  }

  /** `set` no longer waits (its start went through, its demand is gone, or it stopped). */
  leave(set: string): void {
    if (this.#line.delete(set)) this.#notify();
  }

  /**
   * The set waiting in line that `set` must let start first, if any: older than `since` (ties go to
   * the name, so two sets never wait for each other) and sharing one of `budgets`.
   */
  ahead(set: string, since: number, budgets: readonly string[]): { set: string; since: number } | undefined {
    let first: Waiter | undefined;
    for (const w of this.#line.values()) {
      if (w.set === set || !budgets.some((b) => w.budgets.has(b))) continue;
      if (!before(w, { set, since })) continue;
      if (!first || before(w, first)) first = w;
    }
    return first && { set: first.set, since: first.since };
  }

  /** True when `set` waits in line. */
  waiting(set: string): boolean {
    return this.#line.has(set);
  }

  /** Room was freed on `budgets` (a runner removed): every set in line looks again. */
  freed(budgets: readonly string[]): void {
    if ([...this.#line.values()].some((w) => budgets.some((b) => w.budgets.has(b)))) this.#notify();
  }

  /** Called after the line changes or room frees; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #notify(): void {
    if (this.#notifying) return;
    this.#notifying = true;
    queueMicrotask(() => {
      this.#notifying = false;
      for (const fn of [...this.#listeners]) fn();
    });
  }
}

interface Waiter {
  set: string;
  since: number;
  budgets: ReadonlySet<string>;
}

function before(a: { set: string; since: number }, b: { set: string; since: number }): boolean {
  return a.since < b.since || (a.since === b.since && a.set < b.set);
}

function sameBudgets(a: ReadonlySet<string>, b: readonly string[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}
