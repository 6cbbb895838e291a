import { type Clock, systemClock } from '../../../src/kernel/clock.js';
import { Backoff, type BackoffOptions } from '../../../src/util/backoff.js';
import { Pulse } from '../../../src/util/pulse.js';
import { callSignal, type EngineSize } from '../call.js';
import { DockerBackendError, describe } from '../errors.js';
import type { HostLedger } from './budget.js';
import type { HostState } from './placement.js';

/**
 * Whether one Docker host answers: pinged on a timer, and at once when something suggests it stopped
 * (an event stream broke, a call got no answer). One monitor per host for the whole process, shared by
 * every scale set placing there, because the host's state lives in the process-wide budget book
 * (`hostLedger`) and a host is up or down for everyone alike. Clock-injected; it does no logging: each
 * scale set's backend says what a change means for its runners.
 *
 *   joining ──answers──▶ up ──`downAfter` pings unanswered──▶ down
 *      │ ▲                 ▲                                    │
 *      └─┘ unanswered      └────────────── answers ─────────────┘
 *
 * "Answers" is a ping within its deadline, followed by `docker info` (the engine's size, which fills
 * the budget dimensions the config left out) when the host comes up and every `sizeEveryMs` after. A failed ping is retried with backoff, the first retry soon,
 * so a host is called down within seconds of the first miss and probed ever more rarely while it
 * stays away.
 */

/** What a monitor asks of its engine. */
export interface HostProbe {
  ping(signal: AbortSignal): Promise<unknown>;
  size(signal: AbortSignal): Promise<EngineSize>;
  /** A failure that a file or a credential fixes (TLS, ssh login), said as that; else undefined. */
  explain(err: unknown): DockerBackendError | undefined;
}

export interface HealthOptions {
  /** Between pings while the host answers (default 5 s). */
  everyMs?: number;
  /**
   * How long a ping (and the `docker info` after it) may go unanswered before it counts as a miss
   * (default 10 s). The request itself lives until the ordinary call deadline.
   */
  timeoutMs?: number;
  /** Consecutive unanswered pings that make an up host down (default 2). */
  downAfter?: number;
  /**
   * How often an up host's size (`docker info`) is read again (default 5 min). It is read on every
   * return to up as well: an engine that came back may be another machine. An engine's CPUs and
   * memory hardly ever change, and `info` is the costlier call, so the ping alone keeps the pulse.
   */
  sizeEveryMs?: number;
  /** Waits between pings while they fail (default 1 s doubling to 30 s, ±20 %). */
  retry?: BackoffOptions;
  clock?: Clock;
}

export const HEALTH_DEFAULTS = {
  everyMs: 5_000,
  timeoutMs: 10_000,
  downAfter: 2,
  sizeEveryMs: 300_000,
  retry: { initial: 1_000, max: 30_000, jitter: 0.2 },
} as const;

/** A host as its monitor sees it now. */
export interface HostHealth {
  state: HostState;
  /** The last ping's failure while it is not up: the error text. */
  error?: string;
  /** That failure, when a file or credential fixes it (see HostProbe.explain). */
  problem?: DockerBackendError;
  /** Failed pings in a row. */
  failures: number;
}

export type HealthListener = (now: HostHealth, previous: HostState) => void;

export class HostMonitor {
  readonly #probe: HostProbe;
  readonly #ledger: HostLedger;
  readonly #o: Required<Omit<HealthOptions, 'clock'>> & { clock: Clock };
  readonly #backoff: Backoff;
  readonly #listeners = new Set<HealthListener>();
  #health: HostHealth = { state: 'joining', failures: 0 };
  #users = 0;
  #stop: AbortController | undefined;
  #cancelTimer: (() => void) | undefined;
  /** The use (acquire) whose ping is under way, if any: a ping of an earlier use may still be ending. */
  #pingingFor: AbortController | undefined;
  #again = false;
  /** Fired at every outcome of a ping (answered or not). */
  readonly #outcome = new Pulse();
  #outcomes = 0;
  /** When the size was last read (clock ms); undefined: read it at the next answer. */
  #sizedAt: number | undefined;

  constructor(
    readonly key: string,
    probe: HostProbe,
    ledger: HostLedger,
    opts: HealthOptions = {},
  ) {
    this.#probe = probe;
    this.#ledger = ledger;
    this.#o = { ...HEALTH_DEFAULTS, clock: systemClock, ...opts };
    this.#backoff = new Backoff(this.#o.retry);
  }

  get health(): HostHealth {
    return { ...this.#health };
  }

  /** Starts the pings when the first user comes; the returned function ends this use. */
  acquire(): () => void {
    this.#users++;
    if (this.#users === 1) {
      this.#stop = new AbortController();
      this.check();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#users--;
      if (this.#users > 0) return;
      this.#stop?.abort();
      this.#stop = undefined;
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
    };
  }

  /** Calls `fn` on every change of state, and on a new error while the host is not up. */
  onChange(fn: HealthListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Resolves once the host answered or failed to at least once (or `signal` aborts). */
  async settled(signal: AbortSignal): Promise<void> {
    if (this.#outcomes === 0) await this.#outcome.wait(signal);
  }

  /** Resolves at the next outcome of a ping (or when `signal` aborts), with the health after it. */
  async nextOutcome(signal?: AbortSignal): Promise<HostHealth> {
    await this.#outcome.wait(signal);
    return this.health;
  }

  /** Pings now and resolves with the outcome (or when `signal` aborts): for a caller that must know. */
  async probe(signal: AbortSignal): Promise<HostHealth> {
    if (!this.#stop) return this.health;
    const next = this.#outcome.wait(signal);
    this.check();
    await next;
    return this.health;
  }

  /** Pings now (unless a ping is under way, which then answers this too). */
  check(): void {
    if (!this.#stop) return;
    if (this.#pingingFor === this.#stop) {
      // The ping under way may have been sent before what prompted this: one more after it.
      this.#again = true;
      return;
    }
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    void this.#ping();
  }

  async #ping(): Promise<void> {
    const stop = this.#stop;
    if (!stop) return;
    this.#pingingFor = stop;
    let wait: number;
    try {
      // Each call lives until the ordinary call deadline, but the verdict comes at `timeoutMs`: a
      // host that holds a ping that long is not answering, and the next ping goes out while this one
      // may still be held (so a silent engine always has a call of ours waiting, as a stall shows).
      await this.#within(this.#probe.ping(callSignal(stop.signal)));
      const size = this.#sizeDue()
        ? await this.#within(this.#probe.size(callSignal(stop.signal)))
        : undefined;
      if (stop.signal.aborted) return;
      this.#answered(size);
      wait = this.#o.everyMs;
    } catch (err) {
      if (stop.signal.aborted) return;
      this.#unanswered(err);
      wait = this.#backoff.next();
    } finally {
      if (this.#pingingFor === stop) this.#pingingFor = undefined;
      if (!stop.signal.aborted) {
        this.#outcomes++;
        this.#outcome.fire();
      }
    }
    if (this.#stop !== stop) return;
    if (this.#again) {
      this.#again = false;
      wait = 0;
    }
    this.#cancelTimer = this.#o.clock.setTimer(() => {
      this.#cancelTimer = undefined;
      void this.#ping();
    }, wait);
  }

  /** `call`'s outcome, or a timeout after `timeoutMs` on the clock (the call goes on, its end ignored). */
  #within<T>(call: Promise<T>): Promise<T> {
    call.catch(() => {});
    return new Promise<T>((resolve, reject) => {
      const cancel = this.#o.clock.setTimer(() => {
        const s = Math.round(this.#o.timeoutMs / 100) / 10;
        reject(new DOMException(`no answer from the Docker engine within ${s}s`, 'TimeoutError'));
      }, this.#o.timeoutMs);
      call.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (err: unknown) => {
          cancel();
          reject(err);
        },
      );
    });
  }

  #sizeDue(): boolean {
    if (this.#health.state !== 'up' || this.#sizedAt === undefined) return true;
    return this.#o.clock.now() - this.#sizedAt >= this.#o.sizeEveryMs;
  }

  #answered(size: EngineSize | undefined): void {
    this.#backoff.reset();
    if (size) {
      this.#ledger.reportSize(this.key, size);
      this.#sizedAt = this.#o.clock.now();
    }
    const previous = this.#health.state;
    this.#health = { state: 'up', failures: 0 };
    if (previous !== 'up') {
      this.#ledger.setState(this.key, 'up');
      this.#notify(previous);
    }
  }

  #unanswered(err: unknown): void {
    const problem = this.#probe.explain(err);
    const error = problem?.message ?? describe(err);
    const previous = this.#health.state;
    const failures = this.#health.failures + 1;
    let state = previous;
    // A problem a file fixes is not a blip: the host is not usable until the file is fixed.
    if (previous === 'up' && (failures >= this.#o.downAfter || problem)) state = 'down';
    const changed = state !== previous || (state !== 'up' && error !== this.#health.error);
    this.#health = { state, failures, error, ...(problem ? { problem } : {}) };
    if (state !== previous) this.#ledger.setState(this.key, state);
    if (changed) this.#notify(previous);
  }

  #notify(previous: HostState): void {
    const now = this.health;
    for (const fn of [...this.#listeners]) fn(now, previous);
  }
}

/**
 * The monitors of each budget book, one per host key (the url): for the process's `hostLedger`, one per
 * host for the whole process. The first scale set to ask for a host makes its monitor, with its probe
 * and options; later ones share it.
 */
const monitors = new WeakMap<HostLedger, Map<string, HostMonitor>>();

export function monitorFor(
  key: string,
  ledger: HostLedger,
  make: () => HostProbe,
  opts?: HealthOptions,
): HostMonitor {
  let book = monitors.get(ledger);
  if (!book) {
    book = new Map();
    monitors.set(ledger, book);
  }
  let m = book.get(key);
  if (!m) {
    m = new HostMonitor(key, make(), ledger, opts);
    book.set(key, m);
  }
  return m;
}

/** A host failure that a file or credential fixes (see HostProbe.explain). */
export function isHostProblem(err: unknown): err is DockerBackendError {
  return err instanceof DockerBackendError && (err.code === 'DOCKER_TLS' || err.code === 'DOCKER_AUTH');
}
