import { claimFor } from './jobs.js';
import type { FakeState } from './state.js';
import type { FakeJob, FakeRunner } from './types.js';

/** How a claim ends: a job started on the runner, the runner's registration gone, or nothing (hold over / dropped). */
export type ClaimOutcome = FakeJob | 'gone' | undefined;

interface Claim {
  runner: FakeRunner;
  timer: NodeJS.Timeout;
  settle(v: ClaimOutcome): void;
}

/**
 * Runners waiting in a claim, per scale set in the order they began to wait. A claim is decided when a job
 * of its scale set becomes assigned (oldest claim first, oldest assigned job first: FIFO on both sides), when
 * its runner's registration goes away, or when its hold ends (one last look first).
 *
 * Held claims used to be one 'change' listener each: every state change of the fake re-checked every
 * waiting runner, O(runners) per change. Here a change costs one look at the scale sets that have both
 * waiting claims and assigned jobs; a removal wakes only that runner's claims.
 */
export class ClaimQueue {
  readonly #state: FakeState;
  readonly #byScaleSet = new Map<number, Set<Claim>>();
  readonly #byRunner = new Map<number, Set<Claim>>();
  // Starting a job emits a change synchronously: the nested dispatch is noted and re-run afterwards.
  #dispatching = false;
  #again = false;

  constructor(state: FakeState) {
    this.#state = state;
  }

  /**
   * Waits (at most `ms`) for a job to start on `r`; calls `onSettle` once, unless `cancel` (returned)
   * is called first. Decided at once when a job is waiting or the runner is gone.
   */
  hold(r: FakeRunner, ms: number, onSettle: (v: ClaimOutcome) => void): () => void {
    const state = this.#state;
    let done = false;
    const claim: Claim = {
      runner: r,
      timer: setTimeout(() => {
        if (done) return;
        this.#remove(claim);
        claim.settle(state.runners.has(r.id) ? claimFor(state, r) : 'gone');
      }, ms),
      settle: (v) => {
        if (done) return;
        done = true;
        onSettle(v);
      },
    };
    const cancel = () => {
      if (done) return;
      done = true;
      this.#remove(claim);
    };
    if (!state.runners.has(r.id)) {
      clearTimeout(claim.timer);
      claim.settle('gone');
      return cancel;
    }
    add(this.#byScaleSet, r.scaleSetId, claim);
    add(this.#byRunner, r.id, claim);
    this.dispatch();
    return cancel;
  }

  /** The runner's registration went away: its waiting claims answer `gone`. */
  runnerGone(runnerId: number): void {
    const claims = this.#byRunner.get(runnerId);
    if (!claims) return;
    for (const c of [...claims]) {
      this.#remove(c);
      c.settle('gone');
    }
  }

  /** Hands assigned jobs to waiting claims; run on every state change. */
  dispatch(): void {
    if (this.#byScaleSet.size === 0) return;
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#again = false;
        for (const [scaleSetId, claims] of this.#byScaleSet) {
          const assigned = this.#state.jobsIn(scaleSetId, 'assigned');
          for (const c of claims) {
            if (assigned.size === 0) break;
            const job = claimFor(this.#state, c.runner);
            if (!job) continue;
            this.#remove(c);
            c.settle(job);
          }
        }
      } while (this.#again);
    } finally {
      this.#dispatching = false;
    }
  }

  /** The fake is closing: every waiting claim answers `gone` (an HTTP claim's connection is destroyed anyway). */
  dispose(): void {
    const all = [...this.#byScaleSet.values()].flatMap((claims) => [...claims]);
    this.#byScaleSet.clear();
    this.#byRunner.clear();
    for (const c of all) {
      clearTimeout(c.timer);
      c.settle('gone');
    }
  }

  #remove(c: Claim): void {
    clearTimeout(c.timer);
    del(this.#byScaleSet, c.runner.scaleSetId, c);
    del(this.#byRunner, c.runner.id, c);
  }
}

function add(m: Map<number, Set<Claim>>, key: number, c: Claim): void {
  let set = m.get(key);
  if (!set) {
    set = new Set();
    m.set(key, set);
  }
  set.add(c);
}

function del(m: Map<number, Set<Claim>>, key: number, c: Claim): void {
  const set = m.get(key);
  if (!set) return;
  set.delete(c);
  if (set.size === 0) m.delete(key);
}
