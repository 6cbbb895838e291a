import { hostname } from 'node:os';
import type { RunnerBackend } from '../../backends/types.js';
import type { ScaleSetConfig } from '../config/types.js';
import type { EventSink } from '../events.js';
import type { ActionsClient } from '../github/client.js';
import { gitHubApiUrl, isScaleSetNotFound } from '../github/index.js';
import type { JobRecord, RunnerStateName, ScaleSetStatus } from '../health/status-types.js';
import { waitingText } from '../health/waiting-text.js';
import { delay } from '../kernel/abort.js';
import { type Clock, systemClock } from '../kernel/clock.js';
import { Listener } from '../listener/listener.js';
import { type ClosableSession, superviseListener } from '../listener/supervisor.js';
import type { Logger } from '../log.js';
import { type NetworkAdvice, networkAdvice } from '../net/advice.js';
import { INSECURE_TLS_WARNING } from '../net/tls.js';
import type { NetworkAccess } from '../net/types.js';
import type { CapacityQueue } from '../scaler/capacity-queue.js';
import { RunnerScaler } from '../scaler/scaler.js';
import { formatSeconds } from '../schema/units.js';
import { WRITE_RETRY_MS, type WriteOutage } from '../state/atomic-file.js';
import { ScaleSetStore } from '../state/scale-set-store.js';
import { Backoff } from '../util/backoff.js';
import { BackendStallMonitor } from './backend-stall.js';
import { ensureScaleSet } from './register-scale-set.js';
import { actionsRegistrar } from './registrar.js';
import type { ScaleSetTally } from './status-tally.js';

export interface ScaleSetRunnerDeps {
  instanceId: string;
  stateDir: string;
  logger: Logger;
  /** Where the listener, supervisor and scaler of this scale set report what happens. */
  emit: EventSink;
  /** What those events told about this scale set (counters, statistics, last poll), for status(). */
  tally: ScaleSetTally;
  client: ActionsClient;
  backend: RunnerBackend;
  /** The scale set's proxy and CA: start-up failures below HTTP are told with advice naming the key. */
  network?: NetworkAccess;
  recentJobs?(scaleSet: string): JobRecord[];
  /** Backoff between attempts to bring the scale set up (auth, registration, adoption). */
  retry?: { initial: number; max: number };
  /** Clock of the events and of the scaler's and supervisor's timing (tests). */
  now?: () => number;
  /** Silence of the backend after which it counts as stalled (default BACKEND_STALL_AFTER_MS). */
  backendStallAfterMs?: number | undefined;
  /** While the state file cannot be written, how often it is tried again (default WRITE_RETRY_MS). */
  stateRetryMs?: number | undefined;
  /** The process's line for budgets shared between scale sets (job shapes on one host). */
  capacity?: CapacityQueue;
  /** The clock of the scaler and the state file (tests); without it `now` with system timers. */
  clock?: Clock;
}

type Phase = ScaleSetStatus['phase'];

/**
 * Owns one scale set from boot to shutdown. A failure here (bad token, GitHub down at boot) is retried
 * with backoff and reported in status; it never throws into the daemon, so other scale sets go on.
 */
export class ScaleSetRunner {
  readonly cfg: ScaleSetConfig;
  readonly #d: ScaleSetRunnerDeps;
  readonly #log: Logger;
  #phase: Phase = 'starting';
  #reason: string | undefined;
  #listeningOnce = false;
  #scaleSetId: number | undefined;
  /** Configured labels GitHub dropped at the last registration (GHES 3.18–3.20 without its flag). */
  #droppedLabels: string[] = [];
  #scaler: RunnerScaler | undefined;
  readonly #listenAbort = new AbortController();
  #running: Promise<void> | undefined;
  readonly #clock: Clock;
  readonly #stalls: BackendStallMonitor;
  readonly #stopWatching = new AbortController();
  #store: ScaleSetStore | undefined;

  constructor(cfg: ScaleSetConfig, deps: ScaleSetRunnerDeps) {
    this.cfg = cfg;
    this.#d = deps;
    this.#log = deps.logger;
    this.#clock = deps.clock ?? (deps.now ? { now: deps.now, setTimer: systemClock.setTimer } : systemClock);
    this.#stalls = new BackendStallMonitor({
      backend: deps.backend,
      logger: deps.logger,
      clock: this.#clock,
      stallAfterMs: deps.backendStallAfterMs,
    });
  }

  /** Runs until `shutdown()` (graceful) or `signal` (hard stop). Never rejects. */
  run(signal: AbortSignal): Promise<void> {
    // From the first moment: a backend that stalls during start-up is named, not just "starting". It is
    // watched until the hard stop, so a stall during the drain is named too.
    if (!this.#running) this.#stalls.watch(AbortSignal.any([signal, this.#stopWatching.signal]));
    this.#running ??= this.#run(AbortSignal.any([signal, this.#listenAbort.signal]))
      .catch((err: unknown) => {
        if (!signal.aborted && !this.#listenAbort.signal.aborted)
          this.#log.error({ err }, 'scale set stopped');
      })
      .finally(async () => {
        // A hard stop leaves runners as they are (the next start adopts them) but stops all our loops.
        if (signal.aborted) {
          await this.#scaler?.stop();
          this.#store?.close();
        }
      });
    return this.#running;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const store = await ScaleSetStore.open(
      this.#d.stateDir,
      this.cfg.name,
      // Each failure: the outage itself is logged once, below.
      (err) => this.#log.debug({ err }, 'state file write failed'),
      { clock: this.#clock, ...(this.#d.stateRetryMs ? { retryMs: this.#d.stateRetryMs } : {}) },
    );
    this.#store = store;
    store.onOutage((now, ended) => this.#logStateFile(store.path, now, ended));
    await this.#untilUp(signal, 'registering the scale set', async () => {
      const ss = await ensureScaleSet(this.#d.client, this.cfg, this.#log, signal);
      this.#scaleSetId = ss.id;
      this.#droppedLabels = ss.droppedLabels;
      store.scaleSetId = ss.id;
      this.#d.client.setSystemInfo({ scaleSetId: ss.id });
    });
    await this.#untilUp(signal, 'preparing the backend', () => this.#d.backend.prepare(signal));

    const scaler = new RunnerScaler({
      scaleSet: this.cfg.name,
      instanceId: this.#d.instanceId,
      minRunners: this.cfg.minRunners,
      schedule: this.cfg.schedule,
      maxRunners: this.cfg.maxRunners,
      idleTimeout: this.cfg.idleTimeout,
      startConcurrency: this.cfg.startConcurrency,
      reconcileInterval: this.cfg.reconcileInterval,
      backend: this.#d.backend,
      registrar: actionsRegistrar(this.#d.client, () => this.#scaleSetId ?? 0),
      store,
      logger: this.#log,
      emit: this.#d.emit,
      clock: this.#clock,
      ...(this.#d.capacity ? { capacity: this.#d.capacity } : {}),
    });
    this.#scaler = scaler;
    await this.#untilUp(signal, 'adopting runners of a previous run', () => scaler.start(signal));

    await superviseListener({
      scaleSet: this.cfg.name,
      signal,
      logger: this.#log,
      emit: this.#d.emit,
      now: this.#d.now,
      openSession: (s) => this.#openSession(s),
      listen: (session, s) =>
        new Listener(session, scaler, {
          scaleSet: this.cfg.name,
          // Capacity 0 while draining tells GitHub to stop assigning jobs to this scale set.
          maxCapacity: () => (scaler.draining ? 0 : this.cfg.maxRunners),
          logger: this.#log,
          emit: this.#d.emit,
          now: this.#d.now,
        }).run(s),
      onPhase: (phase, reason) => {
        if (this.#phase === 'draining' && phase !== 'stopped') return;
        this.#phase = phase;
        if (phase === 'listening') {
          this.#listeningOnce = true;
          this.#reason = undefined;
        } else if (reason) this.#reason = reason;
      },
    });
  }

  async #openSession(signal: AbortSignal): Promise<ClosableSession> {
    const id = this.#scaleSetId;
    if (id === undefined) throw new Error('scale set not registered');
    try {
      const owner = `${hostname()}-${this.cfg.name}`;
      return await this.#d.client.createMessageSession(id, owner, signal);
    } catch (err) {
      if (isScaleSetNotFound(err)) {
        // Deleted at GitHub behind our back: register it again, then let the supervisor retry.
        this.#log.warn('scale set no longer exists at GitHub; registering it again');
        const ss = await ensureScaleSet(this.#d.client, this.cfg, this.#log, signal);
        this.#scaleSetId = ss.id;
        this.#droppedLabels = ss.droppedLabels;
      }
      throw err;
    }
  }

  /**
   * Once when the state file stops being writable, once when it is written again: a full disk is an
   * outage to report, not an error per write (under load, one every 100 ms).
   */
  #logStateFile(path: string, now: WriteOutage | undefined, ended: WriteOutage | undefined): void {
    if (now) {
      this.#log.error(
        { stateFile: path, code: now.code, error: now.error },
        `cannot write the state file (${now.error}): no new runner starts until it can, since it is the only record of a registration whose runner never came up; runners already up go on, and the write is retried every ${formatSeconds(this.#d.stateRetryMs ?? WRITE_RETRY_MS)}`,
      );
    } else if (ended) {
      const ms = this.#clock.now() - ended.since;
      this.#log.info(
        { stateFile: path, outageMs: ms },
        `state file written again after ${formatSeconds(ms)}; new runners start again`,
      );
    }
  }

  /** Retries `fn` with backoff until it succeeds or `signal` aborts, keeping the reason in status. */
  async #untilUp(signal: AbortSignal, what: string, fn: () => Promise<void>): Promise<void> {
    const backoff = new Backoff({
      initial: this.#d.retry?.initial ?? 2000,
      max: this.#d.retry?.max ?? 120_000,
      jitter: 0.2,
    });
    for (;;) {
      signal.throwIfAborted();
      try {
        await fn();
        return;
      } catch (err) {
        if (signal.aborted) throw err;
        const wait = backoff.next();
        const advice = this.#advice(err);
        const message = advice ? `${advice.detail} (${advice.hint})` : undefined;
        this.#reason = `${what} failed: ${message ?? (err instanceof Error ? err.message : String(err))}`;
        this.#log.error(
          advice ? { err, retryInMs: wait, hint: advice.hint } : { err, retryInMs: wait },
          `${what} failed; retrying`,
        );
        await delay(wait, signal);
      }
    }
  }

  /** What to change when GitHub could not be reached (a proxy's 407, an unknown CA…), if that was it. */
  #advice(err: unknown): NetworkAdvice | undefined {
    const network = this.#d.network;
    if (!network) return undefined;
    let url = this.#d.client.actionsServiceUrl;
    try {
      url ??= gitHubApiUrl(this.#d.client.config, '/');
    } catch {
      return undefined;
    }
    return networkAdvice(err, {
      url,
      route: network.route(url),
      urlKey: 'url',
      caFile: network.config.caFile?.path,
      useSystemCa: network.config.useSystemCa,
    });
  }

  /** Graceful stop: drain (idle runners removed, busy ones finish within `timeoutMs`), then close. */
  async shutdown(opts: { drainTimeout: number; deleteScaleSet: boolean }): Promise<void> {
    const scaler = this.#scaler;
    if (scaler) {
      this.#phase = 'draining';
      const left = await scaler.drain(opts.drainTimeout);
      if (left > 0) {
        this.#log.warn(
          { busy: left },
          'drain timeout reached with runners still busy; the backend closes without removing them (Docker and Tart leave them running for the next start to adopt; Dedalus cancels them and sleeps the machines)',
        );
      }
    }
    this.#listenAbort.abort(new Error('shutdown'));
    await this.#running;
    await scaler?.stop();
    this.#store?.close();
    await this.#d.backend.close({ removeAll: false }).catch((err: unknown) => {
      this.#log.warn({ err }, 'backend close failed');
    });
    if (opts.deleteScaleSet && this.#scaleSetId !== undefined) {
      await this.#d.client
        .deleteRunnerScaleSet(this.#scaleSetId, AbortSignal.timeout(15_000))
        .then(() => this.#log.info('scale set deleted'))
        .catch((err: unknown) => this.#log.warn({ err }, 'failed to delete the scale set'));
    }
    this.#phase = 'stopped';
    this.#stopWatching.abort();
  }

  #stateFileStatus(): Pick<ScaleSetStatus, 'stateFile'> {
    const store = this.#store;
    const outage = store?.outage;
    if (!store || !outage) return {};
    return {
      stateFile: { path: store.path, since: new Date(outage.since).toISOString(), error: outage.error },
    };
  }

  #stallStatus(): Pick<ScaleSetStatus, 'backendStall'> {
    const stall = this.#stalls.stall();
    if (!stall) return {};
    const since = new Date(stall.since).toISOString();
    return { backendStall: stall.lastError ? { since, lastError: stall.lastError } : { since } };
  }

  #shapeStatus(): Pick<ScaleSetStatus, 'shape' | 'waiting'> {
    const out: Pick<ScaleSetStatus, 'shape' | 'waiting'> = {};
    const shape = this.cfg.shape;
    if (shape) {
      const { index: _index, ...size } = shape;
      out.shape = size;
    }
    const w = this.#scaler?.waitingJobs();
    if (w && w.count > 0) {
      out.waiting = {
        jobs: w.count,
        reason: w.reason ?? 'starting',
        ...(w.detail ? { detail: w.detail } : {}),
        text: waitingText(w),
      };
    }
    return out;
  }

  get listeningOnce(): boolean {
    return this.#listeningOnce;
  }

  status(): ScaleSetStatus {
    const scaler = this.#scaler;
    const states: RunnerStateName[] = ['creating', 'idle', 'busy', 'done', 'failed', 'removing'];
    const runnerCounts = Object.fromEntries(states.map((s) => [s, scaler?.count(s) ?? 0])) as Record<
      RunnerStateName,
      number
    >;
    const tally = this.#d.tally;
    return {
      name: this.cfg.name,
      backend: this.cfg.backend,
      scaleSetId: this.#scaleSetId,
      phase: this.#phase,
      healthy: this.#phase === 'listening' || this.#phase === 'draining',
      reason: this.#reason,
      lastPollAt: tally.lastPollAt ? new Date(tally.lastPollAt).toISOString() : undefined,
      minRunners: this.#scaler?.minRunners ?? this.cfg.minRunners,
      maxRunners: this.cfg.maxRunners,
      desiredRunners: scaler?.target ?? tally.desired,
      statistics: tally.stats,
      runners: scaler?.runners() ?? [],
      runnerCounts,
      pool: this.#d.backend.poolStatus(),
      ...(this.#d.backend.costs ? { costs: this.#d.backend.costs() } : {}),
      ...this.#shapeStatus(),
      ...(this.#droppedLabels.length > 0 ? { droppedLabels: [...this.#droppedLabels] } : {}),
      ...this.#stallStatus(),
      ...(this.cfg.network.insecureSkipTlsVerify ? { warnings: [INSECURE_TLS_WARNING] } : {}),
      ...this.#stateFileStatus(),
      recentJobs: this.#d.recentJobs?.(this.cfg.name) ?? [],
      counters: { ...tally.counters },
      ...(tally.lastUndecodable ? { lastUndecodable: tally.lastUndecodable } : {}),
    };
  }
}
