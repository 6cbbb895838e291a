import type { MachinePhase } from './api/schemas.js';
import type { JobFigures } from './figures.js';
import type { SleepHold } from './hold-window.js';
import type { MachineRecord } from './state.js';

/**
 * What we are doing with a machine:
 * creating (create + provision) → idle (in the pool) → claimed (a start prepares it) → hosting (the
 * runner's execution runs) → releasing (scrub, sleep) → idle again, or deleting (recycle, failure,
 * reuse = false).
 */
export type SlotUse = 'creating' | 'idle' | 'claimed' | 'hosting' | 'releasing' | 'deleting';

/** One of our machines in memory: its persisted record plus what is in flight on it. */
export class Slot {
  /** Last phase the API reported (refreshed by pool maintenance and by our own waits). */
  phase: MachinePhase;
  use: SlotUse;
  /** A pool wake or sleep under way on an idle machine. */
  op: 'waking' | 'sleeping' | undefined;
  /** Stops the runner's execution watcher. */
  watch: AbortController | undefined;
  figures: JobFigures | undefined;
  /** When the machine last became awake for us (for awake-seconds). */
  awakeSince: number | undefined;
  /**
   * Its sleep was refused (the platform's hold window after a wake, or another answer): it stays
   * awake and in the pool, warm, until a timer sleeps it, a job claims it, or the warm tier keeps it.
   */
  hold: SleepHold | undefined;
  /**
   * Why the machine is not the size the config asks for (a previous process made it before the size or
   * the job shape changed): it runs no new job, and goes when its current one ends.
   */
  misfit: string | undefined;
  /** The start that claimed this machine, for a remove() that arrives while it runs. */
  starting: Promise<unknown> | undefined;
  /** The release under way, so a second remove() waits for it instead of repeating it. */
  releasing: Promise<void> | undefined;
  deleting: Promise<void> | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly rec: MachineRecord,
    phase: MachinePhase,
    use: SlotUse,
  ) {
    this.phase = phase;
    this.use = use;
  }

  get id(): string {
    return this.rec.machineId;
  }

  /** Awake, or on its way there (counted as awake by the pool). */
  get awake(): boolean {
    return this.op === 'waking' || (this.op !== 'sleeping' && AWAKE.has(this.phase));
  }

  /** Runs `fn` after every earlier step on this machine, so a pool sleep never races a claim's wake. */
  lock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }
}

const AWAKE: ReadonlySet<MachinePhase> = new Set(['running', 'starting', 'accepted', 'placement_pending']);
