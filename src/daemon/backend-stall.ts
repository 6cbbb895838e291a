import type { RunnerBackend } from '../../backends/types.js';
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../log.js';
import { formatSeconds } from '../schema/units.js';

/**
 * A backend that has answered nothing for this long is stalled. Engines, the tart CLI and the Dedalus
 * API answer in milliseconds to a few seconds, and while any call is answered there is no silence at
 * all, so ten seconds of it is not a slow moment.
 */
export const BACKEND_STALL_AFTER_MS = 10_000;
/** While a stall lasts, it is logged again this often, with how long it has lasted. */
export const STALL_LOG_EVERY_MS = 60_000;
/** How often the silence is looked at. */
const CHECK_EVERY_MS = 1_000;

/** A stall as status reports it. */
export interface BackendStall {
  /** Epoch ms since when the backend has answered nothing. */
  since: number;
  /** How long that is, now. */
  forMs: number;
  lastError?: string;
}

/**
 * Watches one scale set's backend for silence (RunnerBackend.silence): past `stallAfterMs` the backend
 * is stalled, which status and health report, and the log says so when it begins ("backend not
 * answering for 10s"), every minute while it lasts, and when it ends ("backend answering again after
 * 2m10s"). A backend without `silence()` is never stalled.
 */
export class BackendStallMonitor {
  readonly #backend: Pick<RunnerBackend, 'kind' | 'silence'>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #stallAfterMs: number;
  /** The stall being reported: its start, and when it was last logged. */
  #reported: { since: number; loggedAt: number } | undefined;

  constructor(opts: {
    backend: Pick<RunnerBackend, 'kind' | 'silence'>;
    logger: Logger;
    clock: Clock;
    stallAfterMs?: number | undefined;
  }) {
    this.#backend = opts.backend;
    this.#log = opts.logger;
    this.#clock = opts.clock;
    this.#stallAfterMs = opts.stallAfterMs ?? BACKEND_STALL_AFTER_MS;
  }

  /** The stall now, or undefined while the backend answers (or has been silent only briefly). */
  stall(): BackendStall | undefined {
    const silence = this.#backend.silence?.();
    if (!silence) return undefined;
    const forMs = this.#clock.now() - silence.since;
    if (forMs < this.#stallAfterMs) return undefined;
    return { since: silence.since, forMs, ...(silence.lastError ? { lastError: silence.lastError } : {}) };
  }

  /** Looks at the backend every second until `signal` aborts, logging as the class comment says. */
  watch(signal: AbortSignal): void {
    if (!this.#backend.silence || signal.aborted) return;
    let cancel = () => {};
    const tick = () => {
      this.check();
      if (!signal.aborted) cancel = this.#clock.setTimer(tick, CHECK_EVERY_MS);
    };
    signal.addEventListener('abort', () => cancel(), { once: true });
    tick();
  }

  /** One look: logs a stall that ended, or one that began or goes on. */
  check(): void {
    const now = this.#clock.now();
    const reported = this.#reported;
    // Any answer ends a silence; a later one is another stall, reported afresh.
    if (reported && this.#backend.silence?.()?.since !== reported.since) {
      this.#reported = undefined;
      this.#log.info(
        { backend: this.#backend.kind, stalledMs: now - reported.since },
        `backend answering again after ${formatSeconds(now - reported.since)}`,
      );
    }
    const stall = this.stall();
    if (!stall) return;
    if (this.#reported && now - this.#reported.loggedAt < STALL_LOG_EVERY_MS) return;
    this.#reported = { since: stall.since, loggedAt: now };
    this.#log.warn(
      {
        backend: this.#backend.kind,
        since: new Date(stall.since).toISOString(),
        notAnsweringMs: stall.forMs,
        ...(stall.lastError ? { lastError: stall.lastError } : {}),
      },
      `backend not answering for ${formatSeconds(stall.forMs)}`,
    );
  }
}
