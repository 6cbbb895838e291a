import { BackendCapacityError, type OwnedRunner, type RunnerBackend } from '../../backends/types.js';
import { type CleanupKind, discardEvents, type EventSink } from '../events.js';
import type { JobCompleted, JobStarted } from '../github/types.js';
import type { RunnerStateName, RunnerStatus } from '../health/status-types.js';
import { isAbortError } from '../kernel/abort.js';
import { makeRunnerName } from '../labels.js';
import type { Scaler } from '../listener/types.js';
import { type Logger, silentLogger } from '../log.js';
import { forgetSecret } from '../secret.js';
import type { ScaleSetStore } from '../state/scale-set-store.js';
import { Backoff } from '../util/backoff.js';
import { every } from '../util/every.js';
import { Semaphore } from '../util/semaphore.js';
import type { Registrar, RunnerRecord } from './types.js';

export interface ScalerOptions {
  scaleSet: string;
  instanceId: string;
  minRunners: number;
  maxRunners: number;
  /** Idle runners older than this are recycled; 0 = never. */
  idleTimeout: number;
  startConcurrency: number;
  reconcileInterval: number;
  backend: RunnerBackend;
  registrar: Registrar;
  store: ScaleSetStore;
  logger?: Logger;
  /**
   * Reports runner-started, runner-start-failed, runners-adopted and cleaned-up (a registration
   * removed at GitHub; a runner's resource removed, as the backend's `resourceKind`).
   */
  emit?: EventSink;
  startBackoff?: { initial: number; max: number };
  /**
   * A runner that exits after a job usually does so before GitHub's JobCompleted message arrives, and
   * until then the assigned-job count still includes its job. Its slot stays counted this long (or
   * until the message comes), so the scaler doesn't start a runner for a job that is already done.
   */
  completionGraceMs?: number;
  now?: () => number;
}

const LIVE: ReadonlySet<RunnerStateName> = new Set(['creating', 'idle', 'busy']);
const RETIRE_RETRY_MS = 2000;
/**
 * Registrations (a round trip to GitHub each) may run this many start-concurrency's ahead of backend
 * starts, so the backend never waits for a JIT config between two starts: in a burst, that wait was
 * a tenth of the time to start them all.
 */
const REGISTER_AHEAD = 2;

/**
 * Keeps the runners of one scale set at target = min(max, min + assigned jobs), against reality.
 *
 * Every listener hook returns at once: starts and removals run in the background, backend starts
 * bounded by `startConcurrency`, so a slow backend never blocks the message loop. Reconciliation (timer and
 * backend exit events) repairs whatever the messages did not tell us: dead runners, idle TTLs,
 * leftovers of a previous process, registrations without a resource.
 *
 * Why one long file: every state transition of a runner happens in this class, so its invariants can be
 * checked in one read — max-runners is a hard cap that counts runners still being removed; a finished
 * runner holds its slot until GitHub's count catches up; an idle runner is removed only after GitHub
 * agrees it has no job; a runner whose process ended always loses its resource.
 */
export class RunnerScaler implements Scaler {
  readonly #o: ScalerOptions;
  readonly #log: Logger;
  readonly #emit: EventSink;
  readonly #now: () => number;
  readonly #runners = new Map<string, RunnerRecord>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #retiring = new Set<Promise<void>>();
  readonly #startBackoff: Backoff;
  /** Backend starts in flight: start-concurrency bounds these (the host's load), not registrations. */
  readonly #backendStarts: Semaphore;
  #assigned = 0;
  /** Until the listener reports the first assigned count, the target is unknown: adopted runners stay. */
  #targetKnown = false;
  #draining = false;
  #notBefore = 0;
  /** When the backoff last stepped up: starts begun before then fail for the same cause. */
  #backoffSteppedAt = Number.NEGATIVE_INFINITY;
  #retryTimer: NodeJS.Timeout | undefined;
  #converging = false;
  #convergeAgain = false;
  #reconcileKick: (() => void) | undefined;
  /** Runners that finished a job whose JobCompleted has not arrived yet: name → expiry (ms epoch). */
  readonly #awaitingCompletion = new Map<string, number>();
  readonly #abort = new AbortController();

  constructor(opts: ScalerOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#emit = opts.emit ?? discardEvents;
    this.#now = opts.now ?? Date.now;
    this.#startBackoff = new Backoff({
      initial: opts.startBackoff?.initial ?? 1000,
      max: opts.startBackoff?.max ?? 60_000,
      jitter: 0.2,
    });
    this.#backendStarts = new Semaphore(opts.startConcurrency);
  }

  /** Adopts what a previous process left, then starts the reconcile loop and the exit-event watcher. */
  async start(): Promise<void> {
    await this.reconcile({ adopting: true });
    const signal = this.#abort.signal;
    const loop = every(this.#o.reconcileInterval, () => this.reconcile(), {
      signal,
      runNow: false,
      onError: (err) => this.#log.warn({ err }, 'reconcile failed; retrying at the next interval'),
    });
    this.#reconcileKick = loop.kick;
    this.#track(loop.done);
    this.#track(this.#watchEvents(signal));
  }

  // ---- listener hooks -------------------------------------------------------------------------

  async handleDesiredRunnerCount(count: number): Promise<number> {
    this.#assigned = count;
    this.#targetKnown = true;
    this.#converge();
    return this.target;
  }

  async handleJobStarted(job: JobStarted): Promise<void> {
    const r = this.#runners.get(job.runnerName);
    if (!r) {
      this.#log.debug({ runner: job.runnerName }, 'job started on a runner this daemon does not track');
      return;
    }
    if (r.state === 'creating' || r.state === 'idle') this.#setState(r, 'busy');
    r.jobRequestId = job.runnerRequestId;
  }

  async handleJobCompleted(job: JobCompleted): Promise<void> {
    // No converge here: the assigned count is stale until the desired-count call that ends the batch.
    this.#awaitingCompletion.delete(job.runnerName);
    const r = this.#runners.get(job.runnerName);
    if (!r) {
      // Canceled reassignments name runners we never made (protocol §7.2); nothing to clean.
      this.#log.debug({ runner: job.runnerName, result: job.result }, 'job completed on an untracked runner');
      return;
    }
    if (r.state === 'creating') {
      r.exitedEarly = true;
      return;
    }
    if (LIVE.has(r.state)) this.#setState(r, 'done');
    this.#retire(r, `job ${job.result || 'completed'}`, true);
  }

  // ---- queries -------------------------------------------------------------------------------

  get target(): number {
    if (this.#draining) return 0;
    const warm = this.#o.backend.capabilities.warmRunners?.() ?? 0;
    const cap = Math.min(
      this.#o.maxRunners,
      this.#o.backend.capabilities.maxRunners ?? Number.POSITIVE_INFINITY,
    );
    return Math.max(0, Math.min(cap, Math.max(this.#o.minRunners, warm) + this.#assigned));
  }

  get assignedJobs(): number {
    return this.#assigned;
  }

  runners(): RunnerStatus[] {
    return [...this.#runners.values()].map((r) => ({
      name: r.name,
      state: r.state,
      resourceId: r.resourceId,
      tier: r.tier,
      since: new Date(r.since).toISOString(),
      jobRequestId: r.jobRequestId,
    }));
  }

  count(state: RunnerStateName): number {
    let n = 0;
    for (const r of this.#runners.values()) if (r.state === state) n++;
    return n;
  }

  // ---- convergence ---------------------------------------------------------------------------

  /** Single-flight: a call while running makes it run once more, never twice in parallel. */
  #converge(): void {
    if (this.#converging) {
      this.#convergeAgain = true;
      return;
    }
    this.#converging = true;
    try {
      do {
        this.#convergeAgain = false;
        this.#convergeOnce();
      } while (this.#convergeAgain);
    } finally {
      this.#converging = false;
    }
  }

  #convergeOnce(): void {
    if (this.#abort.signal.aborted || !(this.#targetKnown || this.#draining)) return;
    let live = this.#countAwaitingCompletion();
    let removing = 0;
    let creating = 0;
    const idle: RunnerRecord[] = [];
    for (const r of this.#runners.values()) {
      if (LIVE.has(r.state)) live++;
      // A failed removal may still hold its container or VM, or at least its registration at GitHub:
      // either way it counts against max-runners until it is gone.
      if (r.state === 'removing' || r.state === 'failed') removing++;
      if (r.state === 'creating') creating++;
      if (r.state === 'idle') idle.push(r);
    }
    const target = this.target;
    if (live < target) {
      // Runners being removed still hold a container/VM: counting them keeps max-runners a hard cap.
      const room = this.#o.maxRunners - live - removing;
      const slots = this.#o.startConcurrency * REGISTER_AHEAD - creating;
      const n = Math.min(target - live, room, slots);
      if (n > 0 && this.#now() >= this.#notBefore) {
        for (let i = 0; i < n; i++) this.#startOne();
      }
    } else if (live > target && idle.length > 0) {
      idle.sort((a, b) => a.since - b.since);
      const now = this.#now();
      const removable = idle.filter((r) => (r.retireBlockedUntil ?? 0) <= now);
      for (const r of removable.slice(0, live - target)) this.#retire(r, 'scale down', false);
    }
  }

  #startOne(): void {
    const name = makeRunnerName(this.#o.scaleSet, this.#o.instanceId);
    const now = this.#now();
    const r: RunnerRecord = { name, state: 'creating', since: now, createdAt: now };
    this.#runners.set(name, r);
    this.#track(this.#create(r));
  }

  async #create(r: RunnerRecord): Promise<void> {
    const started = this.#now();
    const signal = this.#abort.signal;
    const log = this.#log.child({ runner: r.name });
    try {
      // Recorded before the registration exists so a crash in between still finds it (by name).
      this.#o.store.put(r.name, { createdAt: new Date(r.createdAt).toISOString() });
      const { runnerId, jitConfig } = await this.#o.registrar.register(r.name, signal);
      r.runnerId = runnerId;
      r.jitConfig = jitConfig;
      this.#o.store.put(r.name, { runnerId, createdAt: new Date(r.createdAt).toISOString() });
      const release = await this.#backendStarts.acquire(signal);
      let handle: Awaited<ReturnType<RunnerBackend['start']>>;
      try {
        handle = await this.#o.backend.start({ name: r.name, runnerId, jitConfig }, signal);
      } finally {
        release();
      }
      r.resourceId = handle.resourceId;
      r.tier = handle.tier;
      const took = this.#now() - started;
      this.#emit({
        type: 'runner-started',
        scaleSet: this.#o.scaleSet,
        at: this.#now(),
        runner: r.name,
        backend: this.#o.backend.kind,
        tier: handle.tier,
        durationMs: took,
      });
      this.#startBackoff.reset();
      log.info({ tier: handle.tier, ms: took }, 'runner started');
      if (r.state === 'creating') this.#setState(r, 'idle');
      if (r.exitedEarly) this.#retire(r, 'exited during start', true);
    } catch (err) {
      if (signal.aborted) {
        // Shutdown mid-start: the record stays so drain/close removes whatever was made.
        this.#setState(r, 'failed');
        this.#retire(r, 'start aborted', true);
        return;
      }
      const capacity = err instanceof BackendCapacityError;
      const reason = capacity ? 'capacity' : errorCode(err);
      this.#emit({
        type: 'runner-start-failed',
        scaleSet: this.#o.scaleSet,
        at: this.#now(),
        runner: r.name,
        backend: this.#o.backend.kind,
        reason,
      });
      // One outage is one backoff step: starts already in flight when it began (up to
      // start-concurrency of them) fail together, and stepping up for each would jump to the maximum
      // wait at once, keeping the scale set down long after the backend is back.
      const stepUp = started >= this.#backoffSteppedAt;
      const wait = stepUp ? this.#startBackoff.next() : Math.max(0, this.#notBefore - this.#now());
      if (stepUp) {
        this.#backoffSteppedAt = this.#now();
        this.#notBefore = this.#now() + wait;
        this.#scheduleRetry(wait);
      }
      if (capacity) log.info({ retryInMs: wait }, 'backend at capacity; will retry');
      else
        log.warn(
          { err, retryInMs: wait },
          'runner start failed; its registration is removed and the start retried',
        );
      this.#setState(r, 'failed');
      this.#retire(r, 'start failed', true);
    } finally {
      this.#converge();
    }
  }

  #awaitCompletion(name: string): void {
    const grace = this.#o.completionGraceMs ?? 15_000;
    this.#awaitingCompletion.set(name, this.#now() + grace);
    setTimeout(() => this.#converge(), grace + 10).unref();
  }

  #countAwaitingCompletion(): number {
    const now = this.#now();
    for (const [name, until] of this.#awaitingCompletion)
      if (until <= now) this.#awaitingCompletion.delete(name);
    return this.#awaitingCompletion.size;
  }

  #scheduleRetry(ms: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#converge(), ms);
    this.#retryTimer.unref();
  }

  /**
   * Removes a runner: registration first (GitHub refuses while a job runs, which tells us the runner
   * is in fact busy), then the resource, then our records.
   *
   * `exited` says the runner's process is known to be over (exit event, JobCompleted, failed start).
   * Then the resource goes even when GitHub cannot be reached, and only the registration is retried
   * later; otherwise a failed deregistration keeps the runner, because a job might be running on it.
   */
  #retire(r: RunnerRecord, reason: string, exited: boolean): void {
    if (r.state === 'removing') return;
    if (exited) r.exited = true;
    const wasIdle = r.state === 'idle';
    this.#setState(r, 'removing');
    this.#trackRetire(
      (async () => {
        const log = this.#log.child({ runner: r.name });
        try {
          if (r.runnerId !== undefined && !r.unregistered) {
            const res = await this.#o.registrar.unregister(r.runnerId).catch((err: unknown) => {
              log.warn({ err, reason }, 'cannot remove the runner registration yet');
              return 'error' as const;
            });
            if (res === 'removed') this.#cleanedUp('registration');
            if (res === 'removed' || res === 'not-found') r.unregistered = true;
            else if (!r.exited) {
              if (res === 'busy' && wasIdle)
                log.info('runner picked up a job while being scaled down; keeping it');
              this.#setState(r, res === 'busy' ? 'busy' : 'idle');
              r.retireBlockedUntil = this.#now() + RETIRE_RETRY_MS;
              return;
            }
          }
          await this.#o.backend.remove(r.name, AbortSignal.timeout(60_000));
          // Only a resource that existed counts (a failed start leaves none), and only once: a failed
          // deregistration retries this whole removal.
          if (r.resourceId !== undefined && !r.resourceRemoved) this.#cleanedUp(this.#o.backend.resourceKind);
          r.resourceRemoved = true;
          if (r.runnerId !== undefined && !r.unregistered) {
            this.#setState(r, 'failed');
            return;
          }
          this.#runners.delete(r.name);
          this.#o.store.delete(r.name);
          // A spent JIT config is useless to anyone; keep the scrub list from growing per job.
          if (r.jitConfig) forgetSecret(r.jitConfig.reveal());
          log.debug({ reason }, 'runner removed');
        } catch (err) {
          log.warn({ err, reason }, 'runner removal failed; retried by reconcile and on shutdown');
          this.#setState(r, 'failed');
        } finally {
          this.#converge();
        }
      })(),
    );
  }

  /** Failed removals are retried at most every RETIRE_RETRY_MS. */
  #retryFailed(): void {
    const now = this.#now();
    for (const r of [...this.#runners.values()]) {
      if (r.state === 'failed' && now - r.since >= RETIRE_RETRY_MS)
        this.#retire(r, 'retry removal', r.exited === true);
    }
  }

  #cleanedUp(kind: CleanupKind): void {
    this.#emit({ type: 'cleaned-up', scaleSet: this.#o.scaleSet, at: this.#now(), kind, count: 1 });
  }

  #setState(r: RunnerRecord, state: RunnerStateName): void {
    r.state = state;
    r.since = this.#now();
  }

  // ---- reality ---------------------------------------------------------------------------------

  async #watchEvents(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const ev of this.#o.backend.events(signal)) {
          const r = this.#runners.get(ev.name);
          if (!r) {
            this.#reconcileKick?.();
            continue;
          }
          // An unclean exit with the backend's reason (OOM kill, VM stopped, container gone) is news.
          if (ev.reason && ev.exitCode !== 0)
            this.#log.warn({ runner: ev.name, exitCode: ev.exitCode, reason: ev.reason }, 'runner exited');
          else
            this.#log.debug({ runner: ev.name, exitCode: ev.exitCode, reason: ev.reason }, 'runner exited');
          if (r.state === 'creating') r.exitedEarly = true;
          else if (r.state === 'busy' || (r.state === 'idle' && ev.exitCode === 0)) {
            // A clean exit of an "idle" runner is a job too short for its JobStarted to have arrived.
            this.#awaitCompletion(r.name);
            this.#setState(r, 'done');
            this.#retire(r, 'exited after job', true);
          } else if (r.state === 'idle' || r.state === 'failed') {
            this.#setState(r, 'failed');
            this.#retire(r, 'exited before taking a job', true);
          }
        }
      } catch (err) {
        if (signal.aborted || isAbortError(err)) return;
        this.#log.warn({ err }, 'backend event stream failed; reconcile covers the gap');
        this.#reconcileKick?.();
      }
    }
  }

  /** Compares our records with the backend and the state file, and repairs every difference. */
  async reconcile(opts: { adopting?: boolean } = {}): Promise<void> {
    const owned = await this.#o.backend.listOwned(AbortSignal.timeout(60_000));
    const byName = new Map<string, OwnedRunner>(owned.map((o) => [o.name, o]));
    const stored = this.#o.store.runners();
    const now = this.#now();

    for (const r of [...this.#runners.values()]) {
      const o = byName.get(r.name);
      if (r.state === 'failed') this.#retire(r, 'retry removal', r.exited === true);
      else if ((r.state === 'idle' || r.state === 'busy') && (!o || o.state === 'exited')) {
        this.#setState(r, r.state === 'busy' ? 'done' : 'failed');
        this.#retire(r, o ? 'resource exited' : 'resource gone', true);
      } else if (r.state === 'idle' && this.#o.idleTimeout > 0 && now - r.since > this.#o.idleTimeout) {
        this.#retire(r, 'idle timeout', false);
      }
    }

    let adopted = 0;
    for (const o of owned) {
      if (this.#runners.has(o.name)) continue;
      const runnerId = o.runnerId ?? stored.get(o.name)?.runnerId;
      const r: RunnerRecord = {
        name: o.name,
        state: 'idle',
        runnerId,
        resourceId: o.resourceId,
        since: now,
        createdAt: o.createdAt?.getTime() ?? now,
        adopted: true,
      };
      this.#runners.set(o.name, r);
      if (o.state === 'exited') {
        this.#setState(r, 'failed');
        this.#retire(r, 'left exited by a previous run', true);
      } else {
        // Busy or idle is unknown after a restart: scale-down asks GitHub first, which refuses if busy.
        adopted++;
        this.#o.store.put(o.name, { runnerId, createdAt: new Date(r.createdAt).toISOString() });
      }
    }
    if (adopted > 0) {
      this.#emit({ type: 'runners-adopted', scaleSet: this.#o.scaleSet, at: this.#now(), count: adopted });
      this.#log.info(
        { adopted },
        opts.adopting ? 'adopted runners of a previous run' : 'adopted untracked runners',
      );
    }

    // Registrations we made whose resource never came up (crash between JIT and start).
    for (const [name, s] of stored) {
      if (this.#runners.has(name) || byName.has(name)) continue;
      const runnerId = s.runnerId ?? (await this.#o.registrar.findByName?.(name));
      if (runnerId !== undefined) {
        const res = await this.#o.registrar.unregister(runnerId).catch((err: unknown) => {
          this.#log.warn({ err, runner: name }, 'cannot remove orphaned registration yet');
          return 'error' as const;
        });
        if (res === 'error' || res === 'busy') continue;
        if (res === 'removed') this.#cleanedUp('registration');
      }
      this.#o.store.delete(name);
    }
    this.#converge();
  }

  // ---- shutdown ------------------------------------------------------------------------------

  /**
   * Stops taking work: target 0, idle runners removed, busy ones left to finish. Resolves when only
   * nothing is left or `timeoutMs` passed; returns how many runners are still busy.
   */
  async drain(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    this.#draining = true;
    this.#converge();
    const deadline = this.#now() + timeoutMs;
    while (this.#now() < deadline && !signal?.aborted) {
      // A runner whose resource is gone but whose registration could not be removed does not hold the
      // drain: its registration is in the state file and the next start (or doctor) removes it.
      const active = [...this.#runners.values()].filter(
        (r) => !(r.state === 'failed' && r.resourceRemoved),
      ).length;
      if (active === 0) break;
      await Promise.race([...this.#tasks, sleepUnref(500)]);
      this.#retryFailed();
      this.#converge();
    }
    // One last try at registrations of runners already gone, so a clean stop leaves none behind.
    for (const r of [...this.#runners.values()]) {
      if (r.state === 'failed') this.#retire(r, 'final retry', r.exited === true);
    }
    const left = Math.max(0, Math.min(5000, deadline - this.#now()));
    await Promise.race([Promise.allSettled([...this.#retiring]), sleepUnref(left)]);
    return this.count('busy') + this.count('idle') + this.count('creating');
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Stops loops and waits for in-flight work (bounded by the caller). */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('scaler stopped'));
    clearTimeout(this.#retryTimer);
    await Promise.allSettled([...this.#tasks]);
    await this.#o.store.flush();
  }

  #trackRetire(p: Promise<void>): void {
    this.#retiring.add(p);
    void p.finally(() => this.#retiring.delete(p));
    this.#track(p);
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.#log.error({ err }, 'background task failed'));
    this.#tasks.add(tracked);
    void tracked.finally(() => this.#tasks.delete(tracked));
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code.toLowerCase() : 'error';
}

function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
