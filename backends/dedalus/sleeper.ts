import type { DedalusContext } from './context.js';
import type { HoldEnd, JobFigures } from './figures.js';
import { reportFigures } from './figures-report.js';
import { HoldTimer, readSleepRefusal, type SleepRefusal } from './hold-window.js';
import type { Slot } from './slot.js';

/** Claimed: a job took the machine before the sleep was sent (or while a refused one was out). */
export type SleepOutcome = 'asleep' | 'held' | 'refused' | 'gone' | 'claimed';

/** The job a sleep follows: its figures, completed once the machine is no longer its cost. */
export interface EndedJob {
  figures: JobFigures;
  /** When the machine became awake for this job (the context's clock). */
  awakeFrom: number;
}

/**
 * Puts idle machines to sleep, and follows the platform's answer. A sleep is one request: a refusal
 * is never retried under the machine's lock. Refused for the hold window (or by any answer worth
 * another try), the machine stays in the pool as a warm machine: the next job takes it without a wake,
 * and once the answer's retry time comes a timer kicks the pool, whose plan sleeps it unless the warm
 * tier wants it awake (a machine a job claimed meanwhile is not idle, so no plan touches it). A final
 * refusal (`retryable: false`) is never sent again while the machine stays awake.
 */
export class Sleeper {
  readonly #timer: HoldTimer;

  constructor(private readonly c: DedalusContext) {
    this.#timer = new HoldTimer(c.clock, () => c.kick());
  }

  /** Its sleep was refused and may not be sent again yet (or ever, during this awake spell). */
  held(s: Slot): boolean {
    const h = s.hold;
    return h !== undefined && (h.until === undefined || h.until > this.c.clock.now());
  }

  /** Held until a time that has come: the pool plans it like any awake machine again. */
  due(s: Slot): boolean {
    return s.hold?.until !== undefined && !this.held(s);
  }

  /**
   * Under the machine's lock (the caller holds it): one sleep request, then the machine is asleep,
   * held (still warm, tried again later), refused for good, gone (and forgotten), or claimed by a job
   * meanwhile (then no sleep is sent, or a refused one is left at that). `job`: the job whose release
   * asks for the sleep; its figures are reported when the machine stops being its cost. A refused or
   * failed request is an outcome, never an error.
   */
  async sleep(s: Slot, signal: AbortSignal, job?: EndedJob): Promise<SleepOutcome> {
    const { ops, counters, log, fleet } = this.c;
    if (this.held(s)) {
      // Asking again before the answer's time would be the retry we promise not to make.
      if (s.hold && job) s.hold.job ??= job;
      return s.hold?.until === undefined ? 'refused' : 'held';
    }
    let outcome: 'asleep' | 'gone' | 'unwanted';
    try {
      outcome = await ops.sleep(s.id, signal, () => s.use === 'idle');
    } catch (err) {
      const now = this.c.clock.now();
      const r = readSleepRefusal(err, now, this.c.timing.sleepRetryMs);
      if (r.kind === 'gone') outcome = 'gone';
      // Claimed while the request was out: the job has the machine now; no hold, nothing to retry.
      else if (s.use !== 'idle') outcome = 'unwanted';
      else return this.#refused(s, r, err, now, job);
    }
    if (outcome === 'unwanted') {
      this.#finish(s, job, 'claimed');
      // The ended job's awake time stops here; the next job's starts.
      if (job) s.awakeSince = this.c.clock.now();
      return 'claimed';
    }
    if (outcome === 'gone') {
      log.warn({ machineId: s.id }, 'a pool machine no longer exists at Dedalus; forgetting it');
      this.#finish(s, job, 'gone');
      await fleet.drop(s);
      return 'gone';
    }
    s.phase = 'sleeping';
    counters.slept++;
    this.#finish(s, job, 'asleep');
    s.awakeSince = undefined;
    return 'asleep';
  }

  /** The sleep was refused: the machine stays awake and in the pool, held until the answer's time (or for good). */
  #refused(
    s: Slot,
    r: Exclude<SleepRefusal, { kind: 'gone' }>,
    err: unknown,
    now: number,
    job: EndedJob | undefined,
  ): SleepOutcome {
    const { counters, log } = this.c;
    s.hold ??= { since: now, until: undefined, window: false, code: r.code, job: undefined };
    const hold = s.hold;
    hold.code = r.code;
    if (job) hold.job ??= job;
    // Awake time from here on belongs to the hold (and the job that ended), not to the next job.
    s.awakeSince = undefined;
    if (r.kind === 'final') {
      hold.until = undefined;
      this.#timer.clear(s.id);
      counters.sleepsRefused++;
      log.warn(
        { err, machineId: s.id, errorCode: r.code },
        `sleep of machine ${s.id} refused (${r.code}, not retryable): not sent again; it stays awake in the pool until a job takes it or the platform's autosleep sleeps it`,
      );
      return 'refused';
    }
    hold.until = r.at;
    this.#timer.set(s.id, r.at);
    if (r.window) {
      if (!hold.window) counters.sleepsHeld++;
      hold.window = true;
      log.info(
        { machineId: s.id, eligibleAt: new Date(r.at).toISOString() },
        'machine in its sleep hold window: kept warm in the pool, to be put to sleep once eligible',
      );
    } else {
      log.warn(
        { err, machineId: s.id, errorCode: r.code, retryAt: new Date(r.at).toISOString() },
        `sleep of machine ${s.id} failed (${r.code}); kept warm in the pool, trying again later`,
      );
    }
    return 'held';
  }

  /**
   * The machine stops being held without our sleep: a job claimed it, the warm tier keeps it, it is
   * being deleted, or something else put it to sleep. The ended job's figures are completed at `at`
   * (default now). Claimed or kept warm, the machine's awake time from `at` belongs to whoever uses it next.
   */
  endHold(s: Slot, end: HoldEnd, at = this.c.clock.now()): void {
    if (!s.hold) return;
    this.#finish(s, undefined, end, at);
    if (end === 'claimed' || end === 'kept warm') s.awakeSince = at;
  }

  /**
   * Shutdown, for a machine still held: nobody will be here to sleep it once eligible, so its
   * autosleep becomes the rest of the window plus a margin and the platform sleeps it itself (the
   * next start restores the long autosleep at adoption, before any job runs on it).
   */
  async handOver(s: Slot, signal: AbortSignal): Promise<void> {
    const h = s.hold;
    if (!h) return;
    const now = this.c.clock.now();
    const left = Math.max(0, (h.until ?? now) - now);
    const seconds = Math.ceil((left + this.c.timing.handOverMarginMs) / 1000);
    try {
      await this.c.client.machines.update(s.id, { autosleep: String(seconds) }, signal);
      this.c.log.info(
        { machineId: s.id, autosleepSeconds: seconds },
        "machine still refuses to sleep at shutdown: left to the platform's autosleep",
      );
    } catch (err) {
      this.c.log.warn(
        { err, machineId: s.id },
        'machine still refuses to sleep at shutdown, and shortening its autosleep failed: it stays awake until its autosleep',
      );
    }
    // It stays awake at least until eligible: that much of the window is the ended job's cost.
    this.#finish(s, undefined, 'closed', Math.max(now, h.until ?? now));
  }

  /** No more timer wake-ups (close()). */
  stop(): void {
    this.#timer.stop();
  }

  /** Ends the hold, if any, and reports the ended job's figures (the held job's, or `job`). */
  #finish(s: Slot, job: EndedJob | undefined, end: HoldEnd, at = this.c.clock.now()): void {
    const h = s.hold;
    s.hold = undefined;
    this.#timer.clear(s.id);
    const seconds = h ? Math.max(0, at - h.since) / 1000 : 0;
    if (h?.window) this.c.counters.holdWindowSeconds += Math.round(seconds * 10) / 10;
    const j = h?.job ?? job;
    if (!j) return;
    reportFigures(this.c, j.figures, j.awakeFrom, at, h?.window ? { seconds, end } : undefined);
  }
}
