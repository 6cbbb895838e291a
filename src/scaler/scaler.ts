import { BackendCapacityError, type OwnedRunner, type RunnerBackend } from '../../backends/types.js';
import { type CleanupKind, discardEvents, type EventSink } from '../events.js';
import type { JobAssigned, JobCompleted, JobStarted } from '../github/types.js';
import type { RunnerStateName, RunnerStatus } from '../health/status-types.js';
import { isAbortError, sleepUnref } from '../kernel/abort.js';
import { Alarm, type Clock, systemClock } from '../kernel/clock.js';
import { errorCode } from '../kernel/errors.js';
import { TaskTracker } from '../kernel/tasks.js';
import { makeRunnerName } from '../labels.js';
import type { Scaler } from '../listener/types.js';
import { type Logger, silentLogger } from '../log.js';
import { minRunnersAt, nextScheduleCheck, type WarmWindow } from '../schema/schedule.js';
import { forgetSecret } from '../secret.js';
import type { ScaleSetStore } from '../state/scale-set-store.js';
import { Backoff } from '../util/backoff.js';
import { every } from '../util/every.js';
import { Semaphore } from '../util/semaphore.js';
import type { CapacityQueue } from './capacity-queue.js';
import {
  adopted,
  creating,
  type Effect,
  type LifecycleEvent,
  leftover,
  next,
  type RunnerRecord,
  stateName,
} from './lifecycle.js';
import { plan, targetOf } from './plan.js';
import { reconcilePlan } from './reconcile.js';
import { StartGate } from './start-gate.js';
import type { Registrar } from './types.js';

export interface ScalerOptions {
  scaleSet: string;
  instanceId: string;
  minRunners: number;
  /** Windows with another min-runners (`[[schedule]]`), on this scaler's clock; none: min-runners always. */
  schedule?: readonly WarmWindow[];
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
  /**
   * The process's line for budgets shared between scale sets (src/scaler/capacity-queue.ts): with it,
   * and a backend that names its budgets, starts on a full budget go in job order across sets.
   */
  capacity?: CapacityQueue;
  clock?: Clock;
}

/** Why the jobs of a scale set that have no runner yet are waiting, for status and the dashboard. */
export type WaitReason =
  | 'starting'
  | 'max-runners'
  | 'budget'
  | 'backend-capacity'
  | 'older-job'
  | 'start-backoff';

export interface WaitingJobs {
  /** Jobs assigned to this scale set with no runner for them yet. */
  count: number;
  reason?: WaitReason;
  /** For 'older-job': the scale set whose older job goes first. For capacity: the backend's words. */
  detail?: string;
}

/**
 * Registrations (a round trip to GitHub each) may run this many start-concurrency's ahead of backend
 * starts, so the backend never waits for a JIT config between two starts: in a burst, that wait was
 * a tenth of the time to start them all.
 */
const REGISTER_AHEAD = 2;
/** Bound on one backend removal: shutdown and reconcile must never hang on the backend. */
const REMOVE_TIMEOUT_MS = 60_000;
/** Bound on one deregistration at GitHub (the client retries within it). */
const DEREGISTER_TIMEOUT_MS = 60_000;

/**
 * Keeps the runners of one scale set at the target, against reality. The decisions live in pure
 * functions — each runner's lifecycle (`lifecycle.ts`), what to start and scale down (`plan.ts`), what
 * reconciliation repairs (`reconcile.ts`); this class executes their effects (registrations, backend
 * calls, the state file) and feeds the outcomes back in.
 *
 * Every listener hook returns at once: starts and removals run in the background, backend starts
 * bounded by `startConcurrency`, so a slow backend never blocks the message loop. One alarm, armed for
 * the plan's `wakeAt`, honours every "not before" (start backoff, refused scale-downs, removal retries,
 * slot holds); the alarm re-arms itself when its timer fires early, so none of them is ever skipped.
 */
export class RunnerScaler implements Scaler {
  readonly #o: ScalerOptions;
  readonly #log: Logger;
  readonly #emit: EventSink;
  readonly #clock: Clock;
  readonly #records = new Map<string, RunnerRecord>();
  /** Runners that finished a job whose JobCompleted has not arrived yet: name → until (ms epoch). */
  readonly #holds = new Map<string, number>();
  /** Background loops and effects; failures are logged. */
  readonly #tasks: TaskTracker;
  /** Removal effects only, which drain waits for. */
  readonly #removals: TaskTracker;
  readonly #gate: StartGate;
  readonly #alarm: Alarm;
  /** Backend starts in flight: start-concurrency bounds these (the host's load), not registrations. */
  readonly #backendStarts: Semaphore;
  /** When each start began (ms epoch), for the backoff's one-step-per-outage rule and the metric. */
  readonly #startedAt = new Map<string, number>();
  #assigned = 0;
  /** Holds that end with the next assigned count: jobs GitHub reported completed since the last one. */
  readonly #countedUntilNextCount = new Set<string>();
  readonly #completionGrace: number;
  /** Until the listener reports the first assigned count, the target is unknown: adopted runners stay. */
  #targetKnown = false;
  #draining = false;
  #converging = false;
  #convergeAgain = false;
  #reconcileKick: (() => void) | undefined;
  /** Names forgotten while a reconcile's listing is in flight (see reconcilePlan). */
  #forgottenDuringListing: Set<string> | undefined;
  readonly #abort = new AbortController();
  /** Woken whenever a runner's record changes (drain waits on it). */
  readonly #changed = new Pulse();
  readonly #unwatchStore: () => void;
  /** Jobs assigned to this set and not started yet: request id → when GitHub queued it (ms epoch). */
  readonly #unstarted = new Map<number, number>();
  /** The budgets the backend's runners draw on; empty: no line to keep. */
  readonly #budgets: readonly string[];
  /** After a start found the budget full: not before this (unless room frees first). */
  #capacityRetryAt = 0;
  readonly #capacityBackoff = new Backoff({ initial: 1000, max: 5000, jitter: 0.2 });
  /** The last capacity refusal: whose budget was full and what the backend said. */
  #capacityRefusal: { budget: boolean; message: string } | undefined;
  /** The older job of another set this set lets go first, while it does. */
  #heldBy: { set: string; since: number } | undefined;
  readonly #unwatchCapacity: () => void;

  constructor(opts: ScalerOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#emit = opts.emit ?? discardEvents;
    this.#clock = opts.clock ?? systemClock;
    this.#completionGrace = opts.completionGraceMs ?? 15_000;
    this.#tasks = new TaskTracker((err) => this.#log.error({ err }, 'background task failed'));
    this.#removals = new TaskTracker((err) => this.#log.error({ err }, 'runner removal task failed'));
    this.#gate = new StartGate({
      initial: opts.startBackoff?.initial ?? 1000,
      max: opts.startBackoff?.max ?? 60_000,
      jitter: 0.2,
    });
    this.#alarm = new Alarm(this.#clock, () => this.#converge());
    this.#backendStarts = new Semaphore(opts.startConcurrency);
    // Starts wait while the state file cannot be written; the write that succeeds again lets them go.
    this.#unwatchStore = opts.store.onOutage(() => this.#converge());
    this.#budgets = opts.capacity ? (opts.backend.budgets?.() ?? []) : [];
    // Room freed on a shared budget, or the line moved: look again now rather than at the backoff.
    this.#unwatchCapacity =
      opts.capacity && this.#budgets.length > 0
        ? opts.capacity.onChange(() => {
            this.#capacityRetryAt = 0;
            this.#converge();
          })
        : () => {};
  }

  /**
   * Adopts what a previous process left, then starts the reconcile loop and the exit-event watcher.
   * `signal` (the daemon's stop) ends an adoption in progress: a shutdown during start-up must not wait
   * for an engine or GitHub that does not answer, and what is not adopted yet stays for the next start.
   */
  async start(signal?: AbortSignal): Promise<void> {
    await this.reconcile({ adopting: true, ...(signal ? { signal } : {}) });
    const stopped = this.#abort.signal;
    const loop = every(this.#o.reconcileInterval, () => this.reconcile(), {
      signal: stopped,
      runNow: false,
      onError: (err) => {
        if (!stopped.aborted) this.#log.warn({ err }, 'reconcile failed; retrying at the next interval');
      },
    });
    this.#reconcileKick = loop.kick;
    this.#tasks.track(loop.done);
    this.#tasks.track(this.#watchEvents(stopped));
  }

  // ---- listener hooks -------------------------------------------------------------------------

  async handleDesiredRunnerCount(count: number): Promise<number> {
    this.#assigned = count;
    this.#trimUnstarted(count);
    // This count no longer includes the jobs completed before it: their slots are free now.
    for (const name of this.#countedUntilNextCount) this.#holds.delete(name);
    this.#countedUntilNextCount.clear();
    this.#targetKnown = true;
    this.#converge();
    return this.target;
  }

  /** A job GitHub assigned to this set: its queue time ranks this set's starts on a shared budget. */
  async handleJobAssigned(job: JobAssigned): Promise<void> {
    const queued = job.queueTime ? Date.parse(job.queueTime) : Number.NaN;
    this.#unstarted.set(job.runnerRequestId, Number.isFinite(queued) ? queued : this.#clock.now());
  }

  async handleJobStarted(job: JobStarted): Promise<void> {
    this.#unstarted.delete(job.runnerRequestId);
    if (!this.#records.has(job.runnerName)) {
      this.#log.debug({ runner: job.runnerName }, 'job started on a runner this daemon does not track');
      return;
    }
    this.#apply(job.runnerName, { type: 'job-started', jobRequestId: job.runnerRequestId }, false);
  }

  async handleJobCompleted(job: JobCompleted): Promise<void> {
    // A job canceled before it started ends here too.
    this.#unstarted.delete(job.runnerRequestId);
    const held = this.#holds.has(job.runnerName);
    const tracked = this.#records.has(job.runnerName);
    // The assigned count still includes this job until the count that ends the message batch: until
    // then its slot stays held, or a removal finishing in between would start a runner for it.
    if (held || tracked) {
      this.#holds.set(job.runnerName, this.#clock.now() + this.#completionGrace);
      this.#countedUntilNextCount.add(job.runnerName);
    }
    if (!tracked) {
      // Canceled reassignments name runners we never made (protocol §7.2); nothing to clean.
      this.#log.debug({ runner: job.runnerName, result: job.result }, 'job completed on an untracked runner');
      return;
    }
    // No converge here: the assigned count is stale until the desired-count call that ends the batch.
    this.#apply(job.runnerName, { type: 'job-completed' }, false);
  }

  // ---- queries -------------------------------------------------------------------------------

  /** The warm runners wanted now: min-runners, or the open `[[schedule]]` window's. */
  get minRunners(): number {
    const schedule = this.#o.schedule ?? [];
    if (schedule.length === 0) return this.#o.minRunners;
    return minRunnersAt(schedule, this.#o.minRunners, new Date(this.#clock.now()));
  }

  get target(): number {
    const caps = this.#o.backend.capabilities;
    return targetOf({
      minRunners: this.minRunners,
      maxRunners: this.#o.maxRunners,
      backendMax: caps.maxRunners,
      warm: caps.warmRunners?.() ?? 0,
      assigned: this.#assigned,
      draining: this.#draining,
    });
  }

  get assignedJobs(): number {
    return this.#assigned;
  }

  /** Jobs of this set with no runner yet, and why they wait (status, the dashboard). */
  waitingJobs(): WaitingJobs {
    // Runners that hold or will take a job, counted in one pass over the records.
    let live = 0;
    for (const r of this.#records.values()) {
      const state = stateName(r);
      if (state === 'busy' || state === 'idle' || state === 'creating') live++;
    }
    const count = Math.max(0, this.#assigned - live);
    if (count === 0) return { count };
    const now = this.#clock.now();
    if (live >= this.#o.maxRunners) return { count, reason: 'max-runners' };
    if (this.#heldBy) return { count, reason: 'older-job', detail: this.#heldBy.set };
    const refusal = this.#capacityRefusal;
    if (refusal) {
      return { count, reason: refusal.budget ? 'budget' : 'backend-capacity', detail: refusal.message };
    }
    if (this.#gate.notBefore > now) return { count, reason: 'start-backoff' };
    return { count, reason: 'starting' };
  }

  runners(): RunnerStatus[] {
    return [...this.#records.values()].map((r) => ({
      name: r.name,
      state: stateName(r),
      resourceId: r.resourceId,
      tier: r.tier,
      since: new Date(r.since).toISOString(),
      jobRequestId: r.jobRequestId,
    }));
  }

  count(state: RunnerStateName): number {
    let n = 0;
    for (const r of this.#records.values()) if (stateName(r) === state) n++;
    return n;
  }

  get draining(): boolean {
    return this.#draining;
  }

  // ---- the state machine's shell ----------------------------------------------------------------

  /** Feeds one event to a runner's lifecycle and carries out what it says. */
  #apply(name: string, event: LifecycleEvent, converge = true): void {
    const before = this.#records.get(name);
    if (!before) return;
    const t = next(before, event, this.#clock.now());
    if (t.record) {
      this.#records.set(name, t.record);
      // The state file learns a runner id as soon as GitHub gives it (write-ahead for crash recovery).
      if (t.record.runnerId !== before.runnerId) this.#storePut(t.record);
    } else {
      this.#records.delete(name);
    }
    this.#changed.fire();
    for (const e of t.effects) this.#execute(t.record ?? before, e);
    if (converge) this.#converge();
  }

  /** Adds a new record (a start, an adoption, a leftover) and carries out its first effects. */
  #add(record: RunnerRecord, effects: readonly Effect[] = []): void {
    this.#records.set(record.name, record);
    this.#storePut(record);
    for (const e of effects) this.#execute(record, e);
  }

  #storePut(r: RunnerRecord): void {
    this.#o.store.put(r.name, {
      ...(r.runnerId !== undefined ? { runnerId: r.runnerId } : {}),
      createdAt: new Date(r.createdAt).toISOString(),
    });
  }

  #execute(r: RunnerRecord, e: Effect): void {
    switch (e.type) {
      case 'register':
        this.#tasks.track(this.#register(r.name));
        return;
      case 'start':
        this.#tasks.track(this.#startBackend(r));
        return;
      case 'deregister':
        this.#removals.track(this.#deregister(r.name, e.runnerId));
        return;
      case 'remove-resource':
        this.#removals.track(this.#removeResource(r.name));
        return;
      case 'forget':
        this.#forget(r);
        return;
      case 'hold-slot':
        this.#holds.set(r.name, this.#clock.now() + this.#completionGrace);
        return;
      case 'log':
        this.#log[e.level]({ runner: r.name, ...e.fields }, e.msg);
        return;
    }
  }

  async #register(name: string): Promise<void> {
    const signal = this.#abort.signal;
    try {
      const { runnerId, jitConfig } = await this.#o.registrar.register(name, signal);
      this.#apply(name, { type: 'registered', runnerId, jitConfig });
    } catch (err) {
      this.#startFailed(name, err);
    }
  }

  async #startBackend(r: RunnerRecord): Promise<void> {
    const signal = this.#abort.signal;
    const { name, runnerId, jitConfig } = r;
    try {
      if (runnerId === undefined || jitConfig === undefined) throw new Error('start without a registration');
      const release = await this.#backendStarts.acquire(signal);
      let handle: Awaited<ReturnType<RunnerBackend['start']>>;
      try {
        handle = await this.#o.backend.start({ name, runnerId, jitConfig }, signal);
      } finally {
        release();
      }
      const now = this.#clock.now();
      const took = now - (this.#startedAt.get(name) ?? now);
      this.#startedAt.delete(name);
      this.#emit({
        type: 'runner-started',
        scaleSet: this.#o.scaleSet,
        at: now,
        runner: name,
        backend: this.#o.backend.kind,
        tier: handle.tier,
        durationMs: took,
        ...(handle.host !== undefined ? { host: handle.host } : {}),
      });
      this.#gate.succeeded();
      this.#capacityBackoff.reset();
      this.#capacityRefusal = undefined;
      this.#log.info({ runner: name, tier: handle.tier, ms: took }, 'runner started');
      this.#apply(name, { type: 'started', resourceId: handle.resourceId, tier: handle.tier });
    } catch (err) {
      this.#startFailed(name, err);
    }
  }

  #startFailed(name: string, err: unknown): void {
    const startedAt = this.#startedAt.get(name) ?? this.#clock.now();
    this.#startedAt.delete(name);
    if (this.#abort.signal.aborted) {
      // Shutdown mid-start: removal takes whatever was made.
      this.#apply(name, { type: 'start-failed', aborted: true });
      return;
    }
    const capacity = err instanceof BackendCapacityError;
    const reason = capacity ? 'capacity' : (errorCode(err)?.toLowerCase() ?? 'error');
    this.#emit({
      type: 'runner-start-failed',
      scaleSet: this.#o.scaleSet,
      at: this.#clock.now(),
      runner: name,
      backend: this.#o.backend.kind,
      reason,
    });
    if (capacity && this.#budgets.length > 0) {
      // A shared budget is full: this set waits in line (see #convergeOnce), woken when room frees, and
      // looks again after a short backoff in case it frees where nobody says (another process).
      const wait = this.#capacityBackoff.next();
      this.#capacityRetryAt = this.#clock.now() + wait;
      this.#capacityRefusal = { budget: err.limit === 'budget', message: err.message };
      this.#log.info(
        { runner: name, retryInMs: wait, why: err.message },
        'no room for a runner; waiting in line',
      );
    } else {
      if (!capacity) this.#o.capacity?.leave(this.#o.scaleSet);
      const wait = this.#gate.failed(startedAt, this.#clock.now());
      if (capacity) {
        this.#capacityRefusal = { budget: err.limit === 'budget', message: err.message };
        this.#log.info({ runner: name, retryInMs: wait }, 'backend at capacity; will retry');
      } else
        this.#log.warn(
          { runner: name, err, retryInMs: wait },
          'runner start failed; its registration is removed and the start retried',
        );
    }
    this.#apply(name, { type: 'start-failed', aborted: false });
  }

  async #deregister(name: string, runnerId: number): Promise<void> {
    let outcome: 'removed' | 'not-found' | 'busy' | 'error';
    try {
      outcome = await this.#o.registrar.unregister(runnerId, AbortSignal.timeout(DEREGISTER_TIMEOUT_MS));
    } catch (err) {
      this.#log.warn({ runner: name, err }, 'cannot remove the runner registration yet');
      outcome = 'error';
    }
    // "not-found": GitHub removed it already (an ephemeral runner after its job); nothing we removed.
    if (outcome === 'removed') this.#cleanedUp('registration');
    this.#apply(name, { type: 'deregistered', outcome });
  }

  async #removeResource(name: string): Promise<void> {
    try {
      await this.#o.backend.remove(name, AbortSignal.timeout(REMOVE_TIMEOUT_MS));
    } catch (err) {
      this.#log.warn({ runner: name, err }, 'runner removal failed; retried with backoff');
      this.#apply(name, { type: 'resource-remove-failed' });
      return;
    }
    // Only a resource that existed counts: a failed start leaves none.
    const held = this.#records.get(name)?.resourceId !== undefined;
    if (held) this.#cleanedUp(this.#o.backend.resourceKind);
    // Its share of a shared budget is free again (a failed start held none).
    if (held && this.#budgets.length > 0) this.#o.capacity?.freed(this.#budgets);
    this.#apply(name, { type: 'resource-removed' });
  }

  #forget(r: RunnerRecord): void {
    this.#o.store.delete(r.name);
    this.#forgottenDuringListing?.add(r.name);
    // A spent JIT config is useless to anyone; keep the scrub list from growing per job.
    if (r.jitConfig) forgetSecret(r.jitConfig.reveal());
    const reason = r.phase === 'removing' || r.phase === 'stuck' ? r.removal.cause : undefined;
    this.#log.debug({ runner: r.name, reason }, 'runner removed');
  }

  #cleanedUp(kind: CleanupKind): void {
    this.#emit({ type: 'cleaned-up', scaleSet: this.#o.scaleSet, at: this.#clock.now(), kind, count: 1 });
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
    if (this.#abort.signal.aborted) return;
    const now = this.#clock.now();
    const p = plan(this.#records.values(), {
      // Until the first count, start nothing and scale nothing down: adopted runners stay.
      target: this.#targetKnown || this.#draining ? this.target : undefined,
      maxRunners: this.#o.maxRunners,
      startSlots: this.#o.startConcurrency * REGISTER_AHEAD,
      startNotBefore: this.#gate.notBefore,
      // The state file is the only record of a registration whose resource never came up: while it
      // cannot be written, a new registration would be one no later start (nor doctor) could find.
      startsPaused: this.#o.store.outage !== undefined,
      holds: this.#holds,
      now,
    });
    for (const name of p.expiredHolds) this.#holds.delete(name);
    for (const name of p.retry) this.#apply(name, { type: 'retry' }, false);
    for (const name of p.retire) this.#apply(name, { type: 'retire', cause: 'scale-down' }, false);
    const start = this.#inLine(p.start, p.live, now);
    for (let i = 0; i < start; i++) this.#startOne(now);
    let wakeAt = p.wakeAt;
    // A schedule window may open or close at any whole minute.
    if ((this.#o.schedule?.length ?? 0) > 0) wakeAt = Math.min(wakeAt, nextScheduleCheck(now));
    if (start < p.start && this.#capacityRetryAt > now && !this.#heldBy)
      wakeAt = Math.min(wakeAt, this.#capacityRetryAt);
    if (Number.isFinite(wakeAt)) this.#alarm.at(wakeAt);
  }

  /**
   * How many of the plan's `wanted` starts go now, on a budget shared with other scale sets
   * (src/scaler/capacity-queue.ts): none while an older job of another set waits for room there, or
   * while this set's last start found it full (until room frees or the short backoff ends). A set
   * that wants runners and cannot have them waits in line, ranked by its oldest job without one.
   */
  #inLine(wanted: number, live: number, now: number): number {
    const q = this.#o.capacity;
    if (!q || this.#budgets.length === 0) return wanted;
    const set = this.#o.scaleSet;
    const target = this.#targetKnown || this.#draining ? this.target : 0;
    if (this.#draining || live >= target) {
      this.#heldBy = undefined;
      q.leave(set);
      return wanted;
    }
    const since = this.#demandSince();
    this.#heldBy = q.ahead(set, since, this.#budgets);
    // Full as the backend's book says (no registration made for nothing), or as the last start found.
    if (!this.#heldBy && this.#o.backend.hasRoom?.() === false) {
      this.#capacityRefusal ??= { budget: true, message: 'every host of this scale set is full' };
      this.#capacityRetryAt = Math.max(this.#capacityRetryAt, now + this.#capacityBackoff.next());
    }
    const full = this.#capacityRetryAt > now;
    if (this.#heldBy || full || q.waiting(set)) q.wait(set, since, this.#budgets);
    return this.#heldBy || full ? 0 : wanted;
  }

  /**
   * The queue time of the oldest job of this set no runner will take: GitHub gives assigned jobs to
   * idle runners oldest first, so the idle and starting runners take the oldest unstarted jobs and
   * the next start is for the one after them. Infinity when the demand is warm capacity alone.
   */
  #demandSince(): number {
    const queued = [...this.#unstarted.values()].sort((a, b) => a - b);
    const taken = this.count('idle') + this.count('creating');
    return queued[taken] ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Job events can be lost (a message that cannot be decoded is acknowledged unread): the assigned
   * count is the truth, so unstarted jobs beyond it go, the oldest first, and none outlives a day
   * (GitHub cancels a job queued that long).
   */
  #trimUnstarted(assigned: number): void {
    const dayAgo = this.#clock.now() - 86_400_000;
    // Entries come in about the order GitHub queued the jobs: the stale ones are first.
    for (const [id, at] of this.#unstarted) {
      if (at >= dayAgo) break;
      this.#unstarted.delete(id);
    }
    const extra = this.#unstarted.size - assigned;
    if (extra <= 0) return;
    const oldest = [...this.#unstarted.entries()].sort((a, b) => a[1] - b[1]).slice(0, extra);
    for (const [id] of oldest) this.#unstarted.delete(id);
  }

  #startOne(now: number): void {
    const record = creating(makeRunnerName(this.#o.scaleSet, this.#o.instanceId), now);
    this.#startedAt.set(record.name, now);
    // Recorded before the registration exists, so a crash in between still finds it (by name).
    this.#add(record, [{ type: 'register' }]);
  }

  // ---- reality ---------------------------------------------------------------------------------

  async #watchEvents(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const ev of this.#o.backend.events(signal)) {
          if (!this.#records.has(ev.name)) {
            this.#reconcileKick?.();
            continue;
          }
          // An unclean exit with the backend's reason (OOM kill, VM stopped, container gone) is news.
          const fields = { runner: ev.name, exitCode: ev.exitCode, reason: ev.reason };
          if (ev.reason && ev.exitCode !== 0) this.#log.warn(fields, 'runner exited');
          else this.#log.debug(fields, 'runner exited');
          this.#apply(ev.name, { type: 'exited', exitCode: ev.exitCode });
        }
      } catch (err) {
        if (signal.aborted || isAbortError(err)) return;
        this.#log.warn({ err }, 'backend event stream failed; reconcile covers the gap');
        this.#reconcileKick?.();
      }
    }
  }

  /**
   * Compares our records with the backend and the state file, and repairs every difference. Its calls
   * end with the scaler's stop (and `signal`): stop() waits for a reconcile in flight, and must not
   * wait for a listing the engine never answers.
   */
  async reconcile(opts: { adopting?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const signal = AbortSignal.any([
      this.#abort.signal,
      AbortSignal.timeout(REMOVE_TIMEOUT_MS),
      ...(opts.signal ? [opts.signal] : []),
    ]);
    const listedAt = this.#clock.now();
    const forgotten = new Set<string>();
    this.#forgottenDuringListing = forgotten;
    let owned: OwnedRunner[];
    try {
      owned = await this.#o.backend.listOwned(signal);
    } finally {
      this.#forgottenDuringListing = undefined;
    }
    const now = this.#clock.now();
    const stored = this.#o.store.runners();
    const p = reconcilePlan(this.#records, owned, stored, {
      idleTimeout: this.#o.idleTimeout,
      now,
      listedAt,
      forgotten,
    });
    for (const [name, event] of p.events) this.#apply(name, event, false);

    for (const o of p.leftovers) {
      const runnerId = o.runnerId ?? stored.get(o.name)?.runnerId;
      const t = leftover(o.name, { runnerId, resourceId: o.resourceId, cause: 'leftover' }, now);
      if (t.record) this.#add(t.record, t.effects);
    }
    let adoptedNow = 0;
    for (const o of p.adopt) {
      if (this.#records.has(o.name)) continue;
      // Without its id, a scale-down could not ask GitHub whether a job runs on it: look it up.
      const runnerId =
        o.runnerId ?? stored.get(o.name)?.runnerId ?? (await this.#o.registrar.findByName?.(o.name, signal));
      if (this.#records.has(o.name)) continue;
      this.#add(
        adopted(o.name, { resourceId: o.resourceId, runnerId, createdAt: o.createdAt?.getTime() }, now),
      );
      adoptedNow++;
    }
    if (adoptedNow > 0) {
      this.#emit({ type: 'runners-adopted', scaleSet: this.#o.scaleSet, at: now, count: adoptedNow });
      this.#log.info(
        { adopted: adoptedNow },
        opts.adopting ? 'adopted runners of a previous run' : 'adopted untracked runners',
      );
    }

    // Registrations we made whose resource never came up (crash between JIT and start).
    for (const [name, s] of p.orphans) {
      if (this.#records.has(name)) continue;
      const runnerId = s.runnerId ?? (await this.#o.registrar.findByName?.(name, signal));
      if (this.#records.has(name)) continue;
      if (runnerId === undefined) {
        this.#o.store.delete(name);
        continue;
      }
      const t = leftover(
        name,
        { runnerId, cause: 'orphaned-registration', createdAt: Date.parse(s.createdAt) },
        now,
      );
      if (t.record) this.#add(t.record, t.effects);
    }
    this.#converge();
  }

  // ---- shutdown ------------------------------------------------------------------------------

  /**
   * Stops taking work: target 0, idle runners removed, busy ones left to finish. Resolves when
   * nothing is left or `timeoutMs` passed; returns how many runners are still busy, idle or starting.
   */
  async drain(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    this.#draining = true;
    this.#converge();
    const deadline = this.#clock.now() + timeoutMs;
    while (this.#clock.now() < deadline && !signal?.aborted) {
      // A runner whose resource is gone but whose registration could not be removed does not hold the
      // drain: its registration is in the state file and the next start (or doctor) removes it.
      let active = 0;
      for (const r of this.#records.values()) if (!(r.phase === 'stuck' && !r.removal.resource)) active++;
      if (active === 0) break;
      await Promise.race([this.#changed.wait(), sleepUnref(500)]);
      this.#converge();
    }
    // One last try at registrations of runners already gone, so a clean stop leaves none behind.
    for (const r of [...this.#records.values()])
      if (r.phase === 'stuck') this.#apply(r.name, { type: 'retry' }, false);
    const left = Math.max(0, Math.min(5000, deadline - this.#clock.now()));
    await this.#removals.settle(AbortSignal.timeout(left));
    return this.count('busy') + this.count('idle') + this.count('creating');
  }

  /** Stops loops and waits for in-flight work (bounded by the caller). */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('scaler stopped'));
    this.#alarm.cancel();
    this.#unwatchStore();
    this.#unwatchCapacity();
    this.#o.capacity?.leave(this.#o.scaleSet);
    await this.#tasks.settle();
    await this.#removals.settle();
    await this.#o.store.flush();
  }
}

/** A wake-up for whoever waits: `wait()` resolves at the next `fire()`. */
class Pulse {
  #resolve: (() => void) | undefined;
  #promise: Promise<void> | undefined;

  wait(): Promise<void> {
    this.#promise ??= new Promise((resolve) => {
      this.#resolve = resolve;
    });
    return this.#promise;
  }

  fire(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
