import { anySignal } from '../../src/kernel/abort.js';
import { AnswerWatch, type Silence } from '../../src/kernel/answers.js';
import { systemClock } from '../../src/kernel/clock.js';
import { EventHub } from '../../src/kernel/events.js';
import { Once } from '../../src/kernel/once.js';
import { TaskTracker } from '../../src/kernel/tasks.js';
import type { Logger } from '../../src/log.js';
import type {
  BackendCapabilities,
  BackendContext,
  BackendCost,
  OwnedRunner,
  RunnerBackend,
  RunnerEvent,
  RunnerHandle,
  RunnerSpec,
} from '../types.js';
import { adopt } from './adopt.js';
import { createDedalusClient, type DedalusClient } from './api/index.js';
import { type DedalusCounters, newCounters } from './context.js';
import { DedalusBackendError } from './errors.js';
import { estimateCost, FiguresLog, type JobFigures } from './figures.js';
import type { Fleet, PoolCounts } from './fleet.js';
import {
  checkConfig,
  DEFAULT_TIMING,
  type DedalusBackendOptions,
  type DedalusTiming,
  resolveApiKey,
} from './options.js';
import { assemble, type Parts } from './parts.js';
import { QuotaShare } from './quota.js';
import { TierSchedule } from './schedule.js';
import { type MachineRecord, MachineStateFile } from './state.js';

/** Per-job figures, counters and pool counts kept in memory; only the tests read them so far (figures.ts). */
export interface DedalusMetrics {
  /** Per-job wake time, time to runner online, awake seconds and cost, newest last (at most 100). */
  lastJobFigures: readonly JobFigures[];
  counters: Readonly<DedalusCounters>;
  pool: PoolCounts | undefined;
}

/**
 * Runners on Dedalus machines from a pool per scale set: sleeping machines (provisioned, caches hot,
 * free while asleep), warm ones (awake for idle runners) and at most `max` in all. See README for
 * the model and its cost arithmetic. Ownership lives in the state file (state.ts); listOwned reads
 * only that file, and nothing here ever acts on a machine the file does not list.
 */
export class DedalusBackend implements RunnerBackend {
  readonly kind = 'dedalus' as const;
  readonly resourceKind = 'machine' as const;
  readonly capabilities: BackendCapabilities;
  readonly #ctx: BackendContext;
  readonly #opts: DedalusBackendOptions;
  readonly #timing: DedalusTiming;
  readonly #schedule: TierSchedule;
  readonly #client: DedalusClient;
  readonly #log: Logger;
  readonly #events = new EventHub<RunnerEvent>();
  readonly #figures = new FiguresLog();
  readonly #counters = newCounters();
  readonly #closing = new AbortController();
  readonly #background: TaskTracker;
  /** Whether the API answers the requests of the client made here (a client given in options: unknown). */
  readonly #answers = new AnswerWatch();
  /** Reads the state file once; no machine is touched. An unreadable file is read again next time. */
  readonly #parts = new Once(() => this.#assemble());
  /** Loads and adopts what the state names, once; a failed adoption (API down) is retried next time. */
  readonly #adoption = new Once((signal: AbortSignal) => this.#adopt(signal));
  #fleet: Fleet | undefined;
  #closed: Promise<void> | undefined;
  /** This backend's share of its account's quota book (quota.ts); dropped at close. */
  readonly #quota: QuotaShare;

  constructor(ctx: BackendContext, opts: DedalusBackendOptions) {
    checkConfig(opts.dedalus);
    this.#ctx = ctx;
    this.#opts = opts;
    this.#timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.#schedule = new TierSchedule(opts.dedalus);
    this.#log = ctx.logger.child({ backend: 'dedalus' });
    this.#background = new TaskTracker((err) => this.#log.error({ err }, 'dedalus background task failed'));
    this.#client =
      opts.client ??
      createDedalusClient({
        baseUrl: opts.dedalus.baseUrl,
        apiKey: resolveApiKey(opts.dedalus, opts.env ?? process.env),
        dispatcher: opts.dispatcher,
        retry: opts.retry,
        timeoutMs: this.#timing.requestTimeoutMs,
        logger: this.#log,
        answers: this.#answers,
      });
    this.#quota = new QuotaShare(opts.dedalus, opts.env ?? process.env, () => this.#fleet?.awakeCount() ?? 0);
    const now = opts.now ?? (() => new Date());
    this.capabilities = { maxRunners: opts.dedalus.max, warmRunners: () => this.#schedule.at(now()).warm };
  }

  async prepare(signal: AbortSignal): Promise<void> {
    const p = await this.#takeControl(signal);
    await p.c.provisionScript();
    p.pool.kick();
  }

  async start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    this.#ensureOpen();
    const p = await this.#takeControl(signal);
    this.#ensureOpen();
    return p.host.start(spec, signal);
  }

  /** Idempotent: an unknown or already removed runner resolves. Cancels a live runner and returns its machine. */
  async remove(runnerName: string, signal: AbortSignal): Promise<void> {
    // Adopted, not controlled: `runner doctor --fix` removes through here while no daemon runs, and
    // must not start the pool (which would make or wake machines). A daemon's pool is already running.
    const p = await this.#adopted(signal);
    const { fleet } = p.c;
    let s = fleet.byRunner(runnerName);
    if (s?.use === 'claimed') {
      await s.starting?.catch(() => {});
      s = fleet.byRunner(runnerName);
    }
    if (s?.use === 'hosting') await p.releaser.release(s, 'removed');
    else if (s?.releasing) await s.releasing;
    if (fleet.state.removeExited(runnerName)) await fleet.state.save();
  }

  /** From the state file only: exited runners not yet removed, then live ones. */
  async listOwned(_signal: AbortSignal): Promise<OwnedRunner[]> {
    const { fleet } = (await this.#load()).c;
    const out: OwnedRunner[] = fleet.state.exitedRunners().map((r) => ({
      name: r.name,
      resourceId: r.machineId,
      state: 'exited' as const,
      runnerId: r.runnerId,
      createdAt: new Date(r.startedAt),
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    }));
    for (const rec of fleet.state.records()) {
      const r = rec.currentRunner;
      // An exit already recorded wins over the live record its release has not cleared yet.
      if (!r || out.some((o) => o.name === r.name)) continue;
      const live = rec.executionId !== undefined && fleet.slots.get(rec.machineId)?.use !== 'claimed';
      out.push({
        name: r.name,
        resourceId: rec.machineId,
        state: live ? 'running' : 'starting',
        runnerId: r.runnerId,
        createdAt: new Date(r.startedAt),
      });
    }
    return out;
  }

  events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    return this.#events.subscribe(signal);
  }

  poolStatus(): Record<string, number> {
    return { ...(this.#fleet?.counts() ?? {}) };
  }

  silence(): Silence | undefined {
    return this.#answers.silence();
  }

  /** The awake seconds the sleep hold window added after jobs, at the list prices of this set's size. */
  costs(): BackendCost[] {
    const seconds = this.#counters.holdWindowSeconds;
    const { vcpu, memoryMib } = this.#opts.dedalus;
    return [{ cause: 'hold-window', seconds, usd: estimateCost(seconds, vcpu, memoryMib) }];
  }

  /** The account's quota of awake vCPUs and memory, when one is set: shared with every set on the account. */
  budgets(): string[] {
    return this.#quota.limited ? [`dedalus:${this.#quota.account}`] : [];
  }

  /** An awake idle machine of this set takes the next runner; otherwise the quota must have room for one. */
  hasRoom(): boolean {
    if (this.#fleet?.pickIdle()?.tier === 'warm') return true;
    return this.#quota.full() === undefined;
  }

  metrics(): DedalusMetrics {
    return {
      lastJobFigures: this.#figures.list(),
      counters: this.#counters,
      pool: this.#fleet?.counts(),
    };
  }

  /** Our machines as the state file lists them, full records (tests; doctor and status use listOwned and poolStatus). */
  async ownedMachines(): Promise<MachineRecord[]> {
    return (await this.#load()).c.fleet.state.records();
  }

  /**
   * Leaves no machine awake and no execution running (a create it cut short is replayed and its machine
   * deleted): live runners are cancelled (recorded as exited,
   * so the next start lists them), their machines scrubbed and put to sleep with the rest of the pool.
   * A machine the platform still refuses to sleep (its hold window after a wake) is left to its
   * autosleep, shortened to the rest of the window. With `removeAll` every machine of ours is deleted.
   * Bounded by `signal`.
   */
  close(opts: { removeAll?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    this.#closed ??= this.#shutdown(opts);
    return this.#closed;
  }

  async #shutdown(opts: { removeAll?: boolean; signal?: AbortSignal }): Promise<void> {
    this.#closing.abort(new DedalusBackendError('DEDALUS_CLOSED', 'dedalus backend closed'));
    // Its machines go to sleep or are left to the next process: they no longer draw on the quota here.
    this.#quota.drop();
    const bound = opts.signal ?? AbortSignal.timeout(5 * 60_000);
    // Started already: run() joins that adoption (its argument is not used).
    const controlled = this.#adoption.started;
    const adopted = controlled ? this.#adoption.run(this.#closing.signal) : undefined;
    const p = await (adopted ?? (opts.removeAll ? this.#load() : undefined))?.catch(() => this.#load());
    if (!p) return;
    const { fleet } = p.c;
    if (controlled) {
      await p.pool.stopped();
      p.sleeper.stop();
      await this.#background.settle(bound);
      // A create that closing cut short may still have made a machine, awake: replaying its key finds it
      // and deletes it now, rather than leaving it awake until the next process adopts (or never).
      await p.provisioner
        .replayPending(anySignal(bound, AbortSignal.timeout(this.#timing.deleteTimeoutMs)))
        .catch((err: unknown) =>
          p.c.log.warn({ err }, 'close: an unanswered machine create is left for the next start'),
        );
      await this.#background.settle(bound);
      const sleepSignal = () => anySignal(bound, AbortSignal.timeout(this.#timing.sleepTimeoutMs));
      const ends = [...fleet.slots.values()].map((s) =>
        s.use === 'hosting'
          ? p.releaser.end(s, { exitCode: undefined, reason: 'backend closed', cancel: true })
          : s.use === 'idle' && s.awake
            ? s.lock(() => p.sleeper.sleep(s, sleepSignal()))
            : s.releasing,
      );
      await Promise.allSettled(ends);
      await this.#background.settle(bound);
      // Machines whose sleep the platform still refuses (hold window) go to its autosleep instead:
      // waiting minutes for them would hold up the shutdown. Deleted anyway with removeAll.
      if (!opts.removeAll) {
        const held = [...fleet.slots.values()].filter((s) => s.hold !== undefined);
        await Promise.allSettled(held.map((s) => s.lock(() => p.sleeper.handOver(s, sleepSignal()))));
        await this.#background.settle(bound);
      }
    }
    if (opts.removeAll) {
      await Promise.allSettled(
        [...fleet.slots.values()].map((s) => p.provisioner.discard(s, 'close removeAll')),
      );
      fleet.state.clearExited();
      await this.#background.settle(bound);
    }
    await fleet.state.save();
  }

  #ensureOpen(): void {
    if (this.#closed) throw new DedalusBackendError('DEDALUS_CLOSED', 'dedalus backend is closed');
  }

  #load(): Promise<Parts> {
    return this.#parts.run();
  }

  async #assemble(): Promise<Parts> {
    const state = await MachineStateFile.load(this.#ctx.stateDir, this.#ctx.owner);
    const p = assemble({
      state,
      schedule: this.#schedule,
      cfg: this.#opts.dedalus,
      owner: this.#ctx.owner,
      timing: this.#timing,
      client: this.#client,
      log: this.#log,
      events: this.#events,
      figures: this.#figures,
      counters: this.#counters,
      now: this.#opts.now ?? (() => new Date()),
      clock: this.#opts.clock ?? systemClock,
      closing: this.#closing.signal,
      track: (t) => this.#background.track(t),
      runnerNetwork: this.#ctx.runnerNetwork,
      quota: this.#quota,
    });
    this.#fleet = p.c.fleet;
    return p;
  }

  /** Loads the state and adopts what it names (once); the pool is not started. */
  #adopted(signal: AbortSignal): Promise<Parts> {
    return this.#adoption.run(signal);
  }

  async #adopt(signal: AbortSignal): Promise<Parts> {
    const p = await this.#load();
    await adopt(p.c, p, anySignal(signal, this.#closing.signal));
    return p;
  }

  /** Adoption, then the pool's maintenance loop: what a daemon that runs jobs needs. */
  async #takeControl(signal: AbortSignal): Promise<Parts> {
    const p = await this.#adopted(signal);
    p.pool.start();
    return p;
  }
}
