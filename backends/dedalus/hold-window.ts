import { Alarm, type Clock } from '../../src/kernel/clock.js';
import { DedalusHttpError, isNotFound } from './api/errors.js';
import { shouldRetry } from './api/retry.js';
import type { JobFigures } from './figures.js';

/**
 * The platform refuses to put a machine to sleep for about five minutes after it woke: the sleep
 * request answers 409 with this error_code, `retryable: true`, `retry_after_ms` (up to ~310 s: a
 * 300 s window plus jitter) and `details.next_sleep_eligible_at`. Such a machine is simply warm:
 * back in the pool at once, and a timer sleeps it once it is eligible (sleeper.ts).
 */
export const SLEEP_HOLD_WINDOW_ACTIVE = 'SLEEP_HOLD_WINDOW_ACTIVE';

/** The published window with its jitter: the wait when a refusal gives no hint at all. */
export const DEFAULT_HOLD_WINDOW_MS = 310_000;

/** A bogus hint of hours must not keep a machine awake that long: we try again after this at the latest. */
export const MAX_DEFER_MS = 15 * 60_000;

/** How a failed sleep request is answered. */
export type SleepRefusal =
  /** 404: the machine no longer exists. */
  | { kind: 'gone' }
  /** Worth another request at `at` (our clock): the hold window, a state race, an API that is down. */
  | { kind: 'later'; at: number; window: boolean; code: string }
  /** Not retryable (`retryable: false`, or a 4xx that will not change): never sent again as is. */
  | { kind: 'final'; code: string };

/**
 * Reads a failed sleep. The wait is the server's hint (`retry_after_ms`, then the details'
 * `remaining_ms`, then `next_sleep_eligible_at`, which depends on our clock agreeing with theirs),
 * else `fallbackMs` (the full window for a hold-window refusal without any hint), kept within
 * [min(1 s, fallbackMs), MAX_DEFER_MS] so that neither a zero hint nor a huge one misleads us.
 */
export function readSleepRefusal(err: unknown, now: number, fallbackMs: number): SleepRefusal {
  if (isNotFound(err)) return { kind: 'gone' };
  if (!(err instanceof DedalusHttpError)) {
    const code = (err as { code?: unknown } | undefined)?.code;
    return {
      kind: 'later',
      at: now + fallbackMs,
      window: false,
      code: typeof code === 'string' ? code : 'error',
    };
  }
  const code = err.errorCode ?? `HTTP ${err.status}`;
  const window = err.errorCode === SLEEP_HOLD_WINDOW_ACTIVE;
  const again = shouldRetry(err.status, { retryable: err.retryable, error_code: err.errorCode }, {});
  if (!again) return { kind: 'final', code };
  const hinted = err.retryAfterMs ?? hintFromDetails(err.details, now);
  const wait = hinted ?? (window ? DEFAULT_HOLD_WINDOW_MS : fallbackMs);
  const floor = Math.min(1_000, fallbackMs);
  return { kind: 'later', at: now + Math.min(Math.max(wait, floor), MAX_DEFER_MS), window, code };
}

function hintFromDetails(details: Readonly<Record<string, string>> | undefined, now: number) {
  const remaining = details?.remaining_ms;
  if (remaining !== undefined && /^\d+$/.test(remaining.trim())) return Number(remaining);
  const at = Date.parse(details?.next_sleep_eligible_at ?? '');
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A machine whose sleep was refused, and why it is still awake. */
export interface SleepHold {
  /** When the first sleep of this awake spell was refused: the extra awake time counts from here. */
  since: number;
  /**
   * When a sleep may be sent again (our clock). Undefined after a final refusal: not sent again while
   * the machine stays awake (a job that takes it asks again after its own run).
   */
  until: number | undefined;
  /** Whether the platform's hold window refused it (that time is labelled so in the job's figures). */
  window: boolean;
  /** The last refusal's error_code (or status), for logs. */
  code: string;
  /** The job whose release asked for the sleep: its figures are completed when the hold ends. */
  job: { figures: JobFigures; awakeFrom: number } | undefined;
}

/**
 * One timer for every held machine: it fires once the earliest hold ends (re-armed if the clock's
 * timer wakes early, see kernel/clock.ts) and hands over the machines that are due; a hold cleared
 * meanwhile never fires.
 */
export class HoldTimer {
  readonly #until = new Map<string, number>();
  readonly #alarm: Alarm;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (machineIds: string[]) => void,
  ) {
    this.#alarm = new Alarm(clock, () => this.#fire());
  }

  /** Ignored once stopped: nobody is left to act on it. */
  set(machineId: string, until: number): void {
    if (this.#stopped) return;
    this.#until.set(machineId, until);
    this.#alarm.at(until);
  }

  clear(machineId: string): void {
    this.#until.delete(machineId);
  }

  /** Machines with a pending hold, and when each ends. */
  pending(): ReadonlyMap<string, number> {
    return this.#until;
  }

  stop(): void {
    this.#stopped = true;
    this.#alarm.cancel();
    this.#until.clear();
  }

  #fire(): void {
    const now = this.clock.now();
    const due: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [id, until] of this.#until) {
      if (until <= now) due.push(id);
      else next = Math.min(next, until);
    }
    for (const id of due) this.#until.delete(id);
    if (next < Number.POSITIVE_INFINITY) this.#alarm.at(next);
    if (due.length > 0) this.onDue(due);
  }
}
