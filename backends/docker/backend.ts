import { anySignal, raceAbort } from '../../src/kernel/abort.js';
import type { Silence } from '../../src/kernel/answers.js';
import { type Clock, systemClock } from '../../src/kernel/clock.js';
import { Once } from '../../src/kernel/once.js';
import { TaskTracker } from '../../src/kernel/tasks.js';
import type { Logger } from '../../src/log.js';
import { formatSize } from '../../src/schema/units.js';
import type { BackoffOptions } from '../../src/util/backoff.js';
import { backoffDelay } from '../../src/util/backoff.js';
import { mergeAsync } from '../../src/util/merge.js';
import { Pulse } from '../../src/util/pulse.js';
import {
  type BackendCapabilities,
  BackendCapacityError,
  type BackendContext,
  type BackendHost,
  type OwnedRunner,
  type Owner,
  type RunnerBackend,
  type RunnerEvent,
  type RunnerExitedEvent,
  type RunnerHandle,
  type RunnerSpec,
} from '../types.js';
import type { DockerConfig } from './config.js';
import { caArchive } from './container-spec.js';
import { DockerBackendError, describe, statusOf } from './errors.js';
import { watchExits } from './exit-watch.js';
import { type HostLedger, type HostScope, hostLedger } from './fleet/budget.js';
import { HostEngine, probeFor } from './fleet/host-engine.js';
import { type HealthOptions, type HostHealth, type HostMonitor, monitorFor } from './fleet/monitor.js';
import {
  type Budget,
  type Demand,
  describeRefusal,
  type HostState,
  neverFits,
  type Refusal,
  type Usage,
} from './fleet/placement.js';
import { engineAnswers } from './host.js';
import { sharedVolumeName } from './volume.js';

export interface DockerBackendOptions {
  image: string;
  docker: DockerConfig;
  /** Reconnect backoff of the event stream (tests shorten it). */
  eventBackoff?: BackoffOptions;
  /** pull-policy "always": age of the last pull before a start refreshes the image (tests shorten it). */
  imageRefreshMs?: number;
  /** How hosts are pinged (tests shorten it); the first scale set on a host sets it for all. */
  health?: HealthOptions;
  /**
   * The budget book placements go through (default: the process's `hostLedger`, shared by every scale
   * set). A test that gives one host other budgets than another test's passes a book of its own.
   */
  ledger?: HostLedger;
  /**
   * For `runner doctor`: no health pings, and listing asks every host, failing on one that does not
   * answer (a runner there must not look like a registration without a container).
   */
  inventory?: boolean;
  clock?: Clock;
}

/** A host of the scale set as `runner hosts`, status and metrics show it. */
export interface DockerHostStatus extends BackendHost {
  state: HostState;
  /** Up, and this scale set's image, volume and socket are in place there: it takes this set's runners. */
  ready: boolean;
  /** Runners counted on the host, all scale sets of this process together. */
  runners: number;
  /** Of those, this scale set's. */
  ownRunners: number;
  budget: Budget;
  used: Usage;
}

/** Bound on close() when the caller gives no signal: shutdown must never hang on the engine. */
const CLOSE_TIMEOUT_MS = 60_000;
/** Wait before reconciling a host that came back is tried again after a failure. */
const RECONCILE_RETRY_MS = 5_000;
/** Bound on settling, at close, the removals owed on hosts that were down (within the shutdown margin). */
const OWED_AT_CLOSE_MS = 10_000;
/** Waits before a start tries again to prepare a host whose preparation failed (image pull…). */
const PREPARE_RETRY: BackoffOptions = { initial: 5_000, max: 5 * 60_000 };

/** Where one of this set's runners is, as far as this backend knows. */
interface Placed {
  key: string;
  resourceId?: string;
  /** Its start is under way: not listed yet, not to be reported or forgotten. */
  starting: boolean;
  /** Order of learning, against listings asked for before it (see #learn). */
  seq: number;
}

/**
 * Ephemeral runners as containers on the Docker hosts of one scale set; see RunnerBackend for the
 * contract. Each host is a HostEngine (fleet/host-engine.ts); whether it answers is its HostMonitor's
 * (fleet/monitor.ts, shared by every scale set on the host); which host a runner goes to, and what is
 * reserved where, is the process-wide budget book's (fleet/budget.ts).
 *
 * A host that stops answering is marked down by its monitor and takes no new runner. With more than
 * one host, the backend then gives up on its runners for now, which is what lets their slots be refilled
 * elsewhere:
 * - `events()` reports each of them exited, the reason naming the host, so the scaler handles it like
 *   any runner that died (its job is reported, its registration removed, its slot refilled);
 * - `listOwned()` leaves the host out (it cannot be asked), so a reconcile agrees with those exits;
 * - `remove()` of a runner there resolves at once and owes the removal: the scaler forgets the runner
 *   instead of holding its max-runners slot in a removal retried for as long as the outage lasts. The
 *   runner keeps its reservation in the budget book meanwhile: the host may well still be running it.
 * When the host answers again it is reconciled before it takes runners: owed runners that exited (or
 * never started) are removed and released; one still running (a partition, not a crash) is not killed,
 * since it may be running a job: its debt is dropped and it shows in `listOwned()` again, where the
 * scaler adopts it as it adopts a previous process's runners (idle and `adopted`, so a scale-down first
 * asks GitHub, which refuses while a job runs; an idle one whose registration went with the "exit" is
 * found gone at GitHub and removed). Then the image is pulled there again by the pull policy.
 *
 * With one host there is nowhere else to refill a slot, so nothing is given up: its runners are neither
 * reported exited nor left out of listings, which fail while the engine is away, as they always did.
 */
export class DockerBackend implements RunnerBackend {
  readonly kind = 'docker' as const;
  readonly resourceKind = 'container' as const;
  readonly capabilities: BackendCapabilities;
  readonly #engines: HostEngine[];
  readonly #byKey = new Map<string, HostEngine>();
  readonly #owner: Owner;
  readonly #logger: Logger;
  readonly #opts: DockerBackendOptions;
  readonly #clock: Clock;
  readonly #ledger: HostLedger;
  readonly #demand: Demand;
  readonly #closing = new AbortController();
  /**
   * Starts, host preparations and reconciles, and background image refreshes, which close() waits for.
   * No error handler: a start's failure goes to its caller, and the others report their own.
   */
  readonly #work = new TaskTracker(() => {});
  /** The first preparation of every host that answers: by prepare() or the first start. */
  readonly #prepared = new Once((signal: AbortSignal) => this.#prepare(signal));
  readonly #runners = new Map<string, Placed>();
  /** Removals asked for while the runner's host was down: name → host key (see the class comment). */
  readonly #owed = new Map<string, string>();
  #seq = 0;
  #prepareAttempts = 0;
  readonly #monitors = new Map<string, HostMonitor>();
  #unwatch: (() => void)[] | undefined;
  /** Woken when a host's state or the runners change: the down-host reporters of events() look again. */
  readonly #changed = new Pulse();
  /** The last "not answering" said per host, so a retry failing alike is not logged again. */
  readonly #reported = new Map<string, string>();

  constructor(ctx: BackendContext, opts: DockerBackendOptions) {
    this.#owner = ctx.owner;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#ledger = opts.ledger ?? hostLedger;
    this.#logger = ctx.logger.child({ scaleSet: ctx.owner.scaleSet, backend: 'docker' });
    const { docker } = opts;
    this.#demand = { cpus: docker.cpus, memory: docker.memory };
    const shared = {
      owner: ctx.owner,
      image: opts.image,
      docker,
      volume: sharedVolumeName(ctx.owner, docker),
      runnerNetwork: ctx.runnerNetwork,
      caArchive: ctx.runnerNetwork?.ca && caArchive(ctx.runnerNetwork.ca),
      imageRefreshMs: opts.imageRefreshMs,
    };
    const hosts = docker.hosts.length > 0 ? docker.hosts : [{ name: 'default', url: '' }];
    this.#engines = hosts.map((h) => new HostEngine(h, shared, this.#logger));
    for (const e of this.#engines) {
      this.#byKey.set(e.key, e);
      // Every scale set on a host adds it; the first one's budget stands (the config checks they agree).
      this.#ledger.addHost(e.key, {
        name: e.name,
        maxRunners: e.host.maxRunners,
        cpus: e.host.cpus,
        memory: e.host.memory,
      });
    }
    // When every host caps its runners, more than their sum can never run at once.
    const caps = hosts.map((h) => h.maxRunners);
    this.capabilities = caps.every((c) => c !== undefined)
      ? { maxRunners: caps.reduce((a, b) => a + b, 0) }
      : {};
  }

  prepare(signal: AbortSignal): Promise<void> {
    return this.#prepared.run(anySignal(signal, this.#closing.signal));
  }

  async start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    if (this.#closing.signal.aborted)
      throw new DockerBackendError('DOCKER_CLOSED', 'docker backend is closed');
    const p = this.#start(spec, anySignal(signal, this.#closing.signal));
    void this.#work.track(p);
    return p;
  }

  async remove(runnerName: string, signal: AbortSignal): Promise<void> {
    const placed = this.#runners.get(runnerName);
    const engine = placed && this.#byKey.get(placed.key);
    if (placed && engine) {
      if (this.#givenUp(engine)) {
        // The host is down: see the class comment. Its reservation stays until the host answers.
        this.#owed.set(runnerName, engine.key);
        this.#logger.debug({ runner: runnerName, host: engine.name }, 'removal owed until the host answers');
        return;
      }
      await engine.remove(runnerName, signal, this.#where(engine));
      this.#forget(runnerName);
      return;
    }
    // Not known here (a previous process's, or already gone): looked for on every host that answers.
    const engines = this.#engines.filter((e) => !this.#givenUp(e));
    const results = await Promise.allSettled(
      engines.map((e) => e.remove(runnerName, signal, this.#where(e))),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.#forget(runnerName);
  }

  async listOwned(signal: AbortSignal): Promise<OwnedRunner[]> {
    if (!this.#opts.inventory) await this.#watch(signal);
    const engines = this.#engines.filter((e) => !this.#givenUp(e));
    const lists = await Promise.allSettled(engines.map((e) => this.#listHost(e, signal)));
    const out: OwnedRunner[] = [];
    const errors: unknown[] = [];
    for (const r of lists) {
      if (r.status === 'fulfilled') out.push(...r.value);
      else errors.push(r.reason);
    }
    if (errors.length > 0) throw errors[0];
    return out;
  }

  /**
   * Each subscription follows every host's event stream and takes its listing (exit-watch.ts), rather
   * than sharing streams through a hub: a runner that exited while nobody was subscribed (the scaler
   * re-subscribes after an error) is still a stopped container, so the new subscription's listing
   * reports it. Runners of a host given up on are reported exited by the subscription too, each once,
   * from when it subscribes: a new subscription reports them again until the scaler removed them.
   */
  events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    return this.#events(anySignal(signal, this.#closing.signal));
  }

  poolStatus(): Record<string, number> {
    return {};
  }

  /**
   * The silence of the hosts that are up: a host known to be down is reported as down (hosts(), the
   * log), and must not make the whole backend look stalled while the others place runners. When no host
   * is up, the backend as a whole can start nothing, and the longest silence of any host is its silence
   * (with one host: that engine's, as it always was). Shared by every scale set on a host: it is the
   * engine that stalls, not one set's calls.
   */
  silence(): Silence | undefined {
    const up = this.#engines.filter((e) => this.#stateOf(e) === 'up');
    const looked = up.length > 0 ? up : this.#engines;
    let worst: { silence: Silence; engine: HostEngine } | undefined;
    for (const e of looked) {
      const s = engineAnswers(e.host).silence();
      if (s && (!worst || s.since < worst.silence.since)) worst = { silence: s, engine: e };
    }
    if (!worst) return undefined;
    const { silence, engine } = worst;
    if (this.#engines.length === 1 || silence.lastError === undefined) return silence;
    return { since: silence.since, lastError: `host "${engine.name}": ${silence.lastError}` };
  }

  /**
   * Cordons or uncordons one of this set's hosts in the process-wide budget book: every scale set on
   * the host sees it, placement skips a cordoned host, and its runners run on to their end.
   */
  cordon(host: string, cordoned: boolean): boolean {
    const engine = this.#engines.find((e) => e.name === host);
    if (!engine) return false;
    this.#ledger.setCordoned(engine.key, cordoned);
    return true;
  }

  /**
   * False when a start now would surely find no room: every host of this set refuses a runner of its
   * size, at least one because its budget is full, and none is still joining or preparing (those may
   * take it once asked). The scaler then waits in line without registering a runner for nothing.
   */
  hasRoom(): boolean {
    const answer = this.#ledger.wouldPlace(this.#demand, this.#scope);
    if (answer.placed) return true;
    const { refusals } = answer;
    if (neverFits(refusals)) return true; // the start says why, as the error it is
    if (refusals.some((r) => r.reason === 'joining' || r.reason === 'budget-unknown')) return true;
    return !refusals.some((r) => r.reason === 'full');
  }

  hostOf(runner: string): string | undefined {
    const key = this.#runners.get(runner)?.key;
    return key === undefined ? undefined : this.#byKey.get(key)?.name;
  }

  /** One budget per host, as the process-wide book keys it: sets sharing a host share its budget. */
  budgets(): string[] {
    return this.#engines.map((e) => `docker:${e.key}`);
  }

  /** This scale set's hosts now: state, cordon, readiness, runners, budget and use. */
  hosts(): DockerHostStatus[] {
    return this.#engines.map((e) => {
      const book = this.#ledger.host(e.key);
      const health = this.#monitors.get(e.key)?.health;
      let own = 0;
      for (const p of this.#runners.values()) if (p.key === e.key) own++;
      const state = book?.state ?? 'joining';
      return {
        name: e.name,
        url: e.key,
        state,
        cordoned: book?.cordoned ?? false,
        ready: state === 'up' && e.ready,
        ...(state !== 'up' && health?.error ? { error: health.error } : {}),
        runners: book?.runners.length ?? 0,
        ownRunners: own,
        budget: book?.budget ?? { count: 'unlimited', cpus: 'unknown', memory: 'unknown' },
        used: book?.used ?? { count: 0, cpus: 0, memory: 0 },
      };
    });
  }

  async close(opts: { removeAll?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const signal = opts.signal ?? AbortSignal.timeout(CLOSE_TIMEOUT_MS);
    await this.#settleOwedAtClose(signal);
    this.#closing.abort(new DockerBackendError('DOCKER_CLOSED', 'docker backend is closed'));
    // Aborted starts remove what they created; waiting for them means nothing appears after the sweep.
    await this.#work.settle(signal);
    for (const stop of this.#unwatch ?? []) stop();
    this.#changed.fire();
    // Starts whose outcome is not known hold nothing a later listing would not find again.
    for (const [name, p] of this.#runners) if (p.resourceId === undefined) this.#forget(name);
    if (!opts.removeAll) return;
    // Every host, down ones included: what cannot be removed is said, not skipped.
    const lists = await Promise.allSettled(this.#engines.map((e) => this.#listHost(e, signal)));
    let failed = 0;
    let total = 0;
    const unreachable: string[] = [];
    await Promise.all(
      this.#engines.map(async (e, i) => {
        const listed = lists[i];
        if (listed?.status !== 'fulfilled') {
          unreachable.push(`${e.name} (${describe(listed?.reason)})`);
          return;
        }
        total += listed.value.length;
        const results = await Promise.allSettled(
          listed.value.map(async (r) => {
            await e.remove(r.name, signal, this.#where(e));
            this.#forget(r.name);
          }),
        );
        failed += results.filter((r) => r.status === 'rejected').length;
        if (this.#opts.docker.buildxCleanup) await e.cleanBuilders(signal);
      }),
    );
    if (failed > 0 || unreachable.length > 0) {
      const parts = [
        ...(failed > 0 ? [`${failed} of ${total} runner containers not removed`] : []),
        ...(unreachable.length > 0 ? [`not reached, its runners left: ${unreachable.join('; ')}`] : []),
      ];
      throw new DockerBackendError('DOCKER_API', `close: ${parts.join('; ')}`);
    }
  }

  // ---- starts -------------------------------------------------------------------------------

  async #start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    await this.#prepared.run(signal);
    const placement = this.#ledger.place(spec.name, this.#demand, this.#scope);
    if (!placement.placed) {
      this.#retryPreparations();
      // Nothing answers: ask now rather than at the monitors' next pings (they back off while down).
      if (!this.#engines.some((e) => this.#stateOf(e) === 'up'))
        for (const m of this.#monitors.values()) m.check();
      throw this.#noHost(placement.refusals);
    }
    const key = this.#ledger.hostOf(spec.name) as string;
    const engine = this.#byKey.get(key) as HostEngine;
    this.#runners.set(spec.name, { key, starting: true, seq: ++this.#seq });
    const t0 = performance.now();
    try {
      const id = await engine.start(spec, signal, {
        signal: this.#closing.signal,
        track: (p) => void this.#work.track(p),
      });
      this.#runners.set(spec.name, { key, resourceId: id, starting: false, seq: ++this.#seq });
      this.#changed.fire();
      engine.logger.debug(
        { runner: spec.name, container: id, ms: Math.round(performance.now() - t0) },
        'runner container started',
      );
      return { name: spec.name, resourceId: id, tier: 'cold', host: engine.name };
    } catch (err) {
      this.#startFailed(spec.name, engine, err);
      throw err;
    }
  }

  /**
   * A start that failed with an answer from the engine left nothing (startContainer removed what it
   * made), so its reservation goes. One that got no answer may have left a container the engine made
   * anyway: the reservation stays until that is known — looked up now when the host answers, else when
   * it answers again (its reconcile), or when the scaler removes the runner.
   */
  #startFailed(name: string, engine: HostEngine, err: unknown): void {
    if (statusOf(err) !== undefined) {
      this.#forget(name);
      return;
    }
    this.#runners.set(name, { key: engine.key, starting: false, seq: ++this.#seq });
    this.#monitors.get(engine.key)?.check();
    const look = async () => {
      const found = await engine.exists(name, this.#closing.signal);
      const placed = this.#runners.get(name);
      if (!placed || placed.resourceId !== undefined) return;
      if (found) this.#runners.set(name, { ...placed, resourceId: found.id });
      else this.#forget(name);
    };
    void this.#work.track(look().catch(() => {}));
  }

  /** How this set sees the hosts of the book when it places a runner. */
  readonly #scope: HostScope = (key) => {
    const engine = this.#byKey.get(key);
    if (!engine) return undefined;
    return engine.ready ? 'eligible' : 'preparing';
  };

  /** The error for a start no host can take: capacity (retried later) unless waiting cannot help. */
  #noHost(refusals: readonly Refusal[]): Error {
    const why = refusals.map(describeRefusal).join('; ');
    if (neverFits(refusals)) {
      return new DockerBackendError(
        'DOCKER_HOST_TOO_SMALL',
        `no Docker host can ever take a runner of ${this.#demandText()}: ${why}; lower [docker] cpus/memory or raise the hosts' budgets`,
      );
    }
    return new BackendCapacityError(`no Docker host can take a runner now: ${why}`, { limit: 'budget' });
  }

  #demandText(): string {
    const { cpus, memory } = this.#demand;
    const c = cpus ? `${cpus} CPU${cpus === 1 ? '' : 's'}` : 'no CPU limit';
    return `${c} and ${memory ? formatSize(memory) : 'no memory limit'}`;
  }

  // ---- preparation and health -----------------------------------------------------------------

  /**
   * Waits for every host's first answer (or failure), then prepares those that answered. Resolves when
   * at least one host is ready; the others join when they answer (their monitor says so).
   */
  async #prepare(signal: AbortSignal): Promise<void> {
    await this.#watch(signal);
    if (this.#prepareAttempts++ > 0) {
      // A retry (the last attempt found no host ready): hosts not up are asked again now rather than
      // at their monitor's next ping, which backs off while a host stays away.
      await Promise.all(
        this.#engines
          .filter((e) => this.#stateOf(e) !== 'up')
          .map((e) => this.#monitors.get(e.key)?.probe(signal)),
      );
    }
    const up = this.#engines.filter((e) => this.#stateOf(e) === 'up');
    const results = await Promise.allSettled(up.map((e) => raceAbort(this.#prepareHost(e), signal)));
    if (signal.aborted) throw signal.reason;
    if (this.#engines.some((e) => e.ready)) return;
    // Nothing can start: each host's reason.
    const reasons = this.#engines.map((e) => {
      const i = up.indexOf(e);
      const r = i >= 0 ? results[i] : undefined;
      if (r?.status === 'rejected') return { engine: e, err: r.reason as unknown };
      const health = this.#monitors.get(e.key)?.health;
      return { engine: e, err: health?.problem ?? notAnswering(e, health) };
    });
    const only = reasons.length === 1 ? reasons[0] : undefined;
    if (only) throw only.err;
    throw new DockerBackendError(
      'DOCKER_NO_HOST',
      `no Docker host is ready: ${reasons.map((r) => `${r.engine.name}: ${describe(r.err)}`).join('; ')}`,
    );
  }

  /** One preparation of `engine` at a time, for whoever asks; it is ready once one succeeded. */
  #prepareHost(engine: HostEngine): Promise<void> {
    if (engine.preparing) return engine.preparing;
    const signal = this.#closing.signal;
    const p = (async () => {
      try {
        await engine.prepare(signal);
        engine.ready = this.#stateOf(engine) === 'up';
        engine.prepareFailures = 0;
        engine.lastPrepareError = undefined;
        this.#changed.fire();
      } catch (err) {
        if (signal.aborted) throw err;
        engine.prepareNotBefore = this.#clock.now() + backoffDelay(engine.prepareFailures++, PREPARE_RETRY);
        const text = describe(err);
        if (text !== engine.lastPrepareError) {
          engine.lastPrepareError = text;
          // With one host the error reaches the caller of prepare() and start(); with several, a host
          // that cannot be prepared is one of many, and only the log says so.
          if (this.#engines.length > 1) {
            engine.logger.warn(
              { err: text },
              'docker host answers but cannot take runners yet (image, volume); retried on later starts',
            );
          }
        }
        throw err;
      } finally {
        engine.preparing = undefined;
      }
    })();
    engine.preparing = p;
    return p;
  }

  /** Hosts up but not ready for this set: a start that found no room tries them again, with backoff. */
  #retryPreparations(): void {
    const now = this.#clock.now();
    for (const e of this.#engines) {
      if (e.ready || e.preparing || this.#stateOf(e) !== 'up' || now < e.prepareNotBefore) continue;
      void this.#work.track(this.#prepareHost(e).catch(() => {}));
    }
  }

  /** Subscribes to every host's monitor (once) and waits for each one's first answer or failure. */
  async #watch(signal: AbortSignal): Promise<void> {
    if (!this.#unwatch && !this.#closing.signal.aborted) {
      const stops: (() => void)[] = [];
      for (const e of this.#engines) {
        const m = monitorFor(e.key, this.#ledger, () => probeFor(e.host), {
          clock: this.#clock,
          ...this.#opts.health,
        });
        this.#monitors.set(e.key, m);
        stops.push(m.onChange((health, previous) => this.#onHealth(e, health, previous)));
        stops.push(m.acquire());
      }
      this.#unwatch = stops;
    }
    await Promise.all([...this.#monitors.values()].map((m) => m.settled(signal)));
    if (signal.aborted) throw signal.reason;
  }

  #onHealth(engine: HostEngine, health: HostHealth, previous: HostState): void {
    if (this.#closing.signal.aborted) return;
    const log = engine.logger;
    if (health.state === 'up') {
      const wasReported = this.#reported.delete(engine.key);
      if (previous === 'down') {
        log.info('docker host answers again: reconciling its runners, then it takes runners again');
        void this.#work.track(this.#hostReturned(engine));
      } else {
        // A host that answers at once is no news; one that was reported not answering is.
        if (wasReported) log.info('docker host joined');
        else log.debug('docker host answers');
        void this.#work.track(this.#prepareHost(engine).catch(() => {}));
      }
    } else if (health.state === 'down' && previous === 'down') {
      // Another reason for the same outage: nothing changes for the runners.
      log.debug({ err: health.error }, 'docker host still down');
    } else if (health.state === 'down') {
      engine.ready = false;
      const n = [...this.#runners.entries()].filter(
        ([name, p]) => p.key === engine.key && !this.#owed.has(name),
      ).length;
      const what =
        this.#engines.length > 1
          ? "this scale set's runners there are reported exited and new ones go to the other hosts; it is reconciled when it answers"
          : 'no new runners until it answers; its runners are reconciled then';
      const fields = { err: health.error, url: engine.key || 'DOCKER_HOST', runners: n };
      if (health.problem) log.error(fields, `docker host is down: ${what}`);
      else log.warn(fields, `docker host is down: ${what}`);
      this.#reported.set(engine.key, health.error ?? '');
    } else if (health.error !== undefined && this.#reported.get(engine.key) !== health.error) {
      // Joining: it has not answered since the start.
      this.#reported.set(engine.key, health.error);
      const fields = { err: health.error, url: engine.key || 'DOCKER_HOST' };
      if (health.problem)
        log.error(fields, 'docker host cannot be used until this is fixed; retried meanwhile');
      else log.warn(fields, 'docker host not answering; it joins when it answers');
    }
    this.#changed.fire();
  }

  /**
   * A host that was down answers again (see the class comment): its owed removals are settled, what
   * vanished meanwhile is released, and only then is it prepared (the image pulled again by the pull
   * policy) to take runners.
   */
  async #hostReturned(engine: HostEngine): Promise<void> {
    const signal = this.#closing.signal;
    try {
      await this.#settleOwed(engine, signal);
    } catch (err) {
      if (signal.aborted) return;
      engine.logger.warn(
        { err: describe(err), retryInMs: RECONCILE_RETRY_MS },
        'reconciling a host that came back failed; it takes no runners until that succeeds',
      );
      // Still up (else its next return starts over): try again, until it works or the host goes.
      this.#clock.setTimer(() => {
        if (!signal.aborted && this.#stateOf(engine) === 'up' && !engine.ready)
          void this.#work.track(this.#hostReturned(engine));
      }, RECONCILE_RETRY_MS);
      return;
    }
    await this.#prepareHost(engine).catch(() => {});
  }

  /**
   * The removals owed on `engine` (asked for while it was down), settled from one listing of it: owed
   * runners that exited (or never started) are removed and released; one still running (a partition,
   * not a crash) is not killed, since it may be running a job: its debt is dropped and the scaler
   * adopts it. Idempotent, so a close() and a reconcile under way may both run it.
   */
  async #settleOwed(engine: HostEngine, signal: AbortSignal): Promise<void> {
    const listed = new Map((await this.#listHost(engine, signal)).map((r) => [r.name, r]));
    let removed = 0;
    let kept = 0;
    for (const [name, key] of [...this.#owed]) {
      if (key !== engine.key) continue;
      const o = listed.get(name);
      if (o && o.state !== 'exited' && o.state !== 'starting') {
        this.#owed.delete(name);
        kept++;
        continue;
      }
      if (o) await engine.remove(name, signal, this.#where(engine));
      this.#forget(name);
      removed++;
    }
    if (removed + kept > 0)
      engine.logger.info(
        { removed, stillRunning: kept },
        'reconciled the runners of a host that was down: exited ones removed, running ones adopted',
      );
  }

  /**
   * At close, the removals still owed: a host that came back moments ago may still be in its
   * reconcile, which the close cuts short, and a graceful stop must not leave its exited runners
   * behind. Every host with debts is asked once, within OWED_AT_CLOSE_MS (a host still down fails at
   * once or at that bound); what cannot be settled is said, and the next start's reconcile finds it.
   */
  async #settleOwedAtClose(signal: AbortSignal): Promise<void> {
    const keys = new Set(this.#owed.values());
    if (keys.size === 0) return;
    const bounded = anySignal(signal, AbortSignal.timeout(OWED_AT_CLOSE_MS));
    await Promise.all(
      this.#engines
        .filter((e) => keys.has(e.key))
        .map(async (engine) => {
          try {
            await this.#settleOwed(engine, bounded);
          } catch (err) {
            const left = [...this.#owed.values()].filter((k) => k === engine.key).length;
            engine.logger.warn(
              { err: describe(err), runners: left },
              'runner containers of a host that was down are not removed at close; the next start removes them',
            );
          }
        }),
    );
  }

  /** Lists one host and learns from it (see #learn). */
  async #listHost(engine: HostEngine, signal: AbortSignal): Promise<OwnedRunner[]> {
    const asked = this.#seq;
    const listed = await engine.list(
      signal,
      this.#engines.length > 1 ? `listing runner containers on host "${engine.name}"` : undefined,
    );
    this.#learn(engine, listed, asked);
    return listed;
  }

  /**
   * What a listing of `engine` says about this set's runners: ones found there are counted in the book
   * (adopted: a previous process's, or moved); ones known there but gone are released. A runner learnt
   * after the listing was asked for (`asked`) may simply not be in it yet, and is left alone.
   */
  #learn(engine: HostEngine, listed: readonly OwnedRunner[], asked: number): void {
    const names = new Set<string>();
    for (const o of listed) {
      names.add(o.name);
      const known = this.#runners.get(o.name);
      if (known?.key === engine.key && known.resourceId === o.resourceId) continue;
      if (known?.starting) continue;
      this.#ledger.adopt(engine.key, o.name, this.#demand);
      this.#runners.set(o.name, {
        key: engine.key,
        resourceId: o.resourceId,
        starting: false,
        seq: ++this.#seq,
      });
    }
    for (const [name, p] of this.#runners) {
      if (p.key !== engine.key || p.starting || p.seq > asked || names.has(name)) continue;
      this.#forget(name);
    }
  }

  /** The runner is gone (or was never made): its reservation and debt go with it. */
  #forget(name: string): void {
    this.#ledger.release(name);
    this.#runners.delete(name);
    this.#owed.delete(name);
  }

  #stateOf(engine: HostEngine): HostState {
    return this.#monitors.get(engine.key)?.health.state ?? this.#ledger.host(engine.key)?.state ?? 'joining';
  }

  /** A host whose runners this set gives up on for now (see the class comment). */
  #givenUp(engine: HostEngine): boolean {
    if (this.#opts.inventory || this.#engines.length === 1 || !this.#unwatch) return false;
    return this.#stateOf(engine) !== 'up';
  }

  /** " on host "x"" in messages, when there is more than one host to tell apart. */
  #where(engine: HostEngine): string {
    return this.#engines.length > 1 ? ` on host "${engine.name}"` : '';
  }

  // ---- events ---------------------------------------------------------------------------------

  async *#events(signal: AbortSignal): AsyncGenerator<RunnerEvent> {
    // Ending this subscription early (the consumer stops reading) ends every per-host watch with it.
    const stop = new AbortController();
    const s = anySignal(signal, stop.signal);
    try {
      const watches = this.#engines.map((e) =>
        watchExits(
          {
            docker: e.docker,
            owner: this.#owner,
            logger: e.logger,
            listOwned: (sig) => this.#listHost(e, sig),
            // A broken stream may be the engine going away: its monitor looks at once.
            onBreak: () => this.#monitors.get(e.key)?.check(),
            // While the host is known not to answer, its reconnect attempts are no news.
            quiet: () => this.#stateOf(e) !== 'up',
            ...(this.#opts.eventBackoff ? { backoff: this.#opts.eventBackoff } : {}),
          },
          s,
        ),
      );
      yield* mergeAsync<RunnerEvent>([...watches, this.#downExits(s)]);
    } finally {
      stop.abort();
    }
  }

  /** The runners of hosts given up on, each reported exited once per subscription (class comment). */
  async *#downExits(signal: AbortSignal): AsyncGenerator<RunnerExitedEvent> {
    if (this.#opts.inventory || this.#engines.length === 1) return;
    try {
      await this.#watch(signal);
    } catch {
      return;
    }
    const reported = new Set<string>();
    while (!signal.aborted) {
      const wake = this.#changed.wait(signal);
      const due: RunnerExitedEvent[] = [];
      for (const [name, p] of this.#runners) {
        const engine = this.#byKey.get(p.key);
        // A start under way, or one that failed (no container known): its caller knows already.
        if (!engine || p.starting || p.resourceId === undefined) continue;
        if (this.#owed.has(name) || reported.has(name)) continue;
        if (!this.#givenUp(engine)) continue;
        reported.add(name);
        const error = this.#monitors.get(p.key)?.health.error;
        due.push({
          type: 'exited',
          name,
          resourceId: p.resourceId ?? '',
          reason: `host "${engine.name}" is down${error ? ` (${error})` : ''}`,
          at: new Date(this.#clock.now()),
        });
      }
      // A runner back on a host that answers (adopted again) is reported afresh if that host goes down.
      for (const name of reported) {
        const p = this.#runners.get(name);
        const engine = p && this.#byKey.get(p.key);
        if (!engine || !this.#givenUp(engine)) reported.delete(name);
      }
      for (const e of due) yield e;
      await wake;
    }
  }
}

function notAnswering(engine: HostEngine, health: HostHealth | undefined): DockerBackendError {
  const where = engine.key || 'default engine (DOCKER_HOST or /var/run/docker.sock)';
  return new DockerBackendError(
    'DOCKER_API',
    `Docker engine ${where} not answering${health?.error ? `: ${health.error}` : ''}`,
  );
}
