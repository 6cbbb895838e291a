import type { Silence } from '../src/kernel/answers.js';
import { RunnerError } from '../src/kernel/errors.js';
import type { Logger } from '../src/log.js';
import type { RunnerNetwork } from '../src/net/runner-network.js';
import type { NetworkAccess } from '../src/net/types.js';
import type { Secret } from '../src/secret.js';

/**
 * The seam every backend plugs into. The scaler never branches on `kind`; it asks `capabilities`.
 *
 * Contract, tested for every backend by test/backends/conformance.ts:
 * - `start` creates exactly one ephemeral runner that runs one job with the JIT config and exits.
 *   On failure it leaves nothing behind (no container, VM or awake machine) and throws.
 * - `remove` is idempotent: removing an unknown or already removed runner resolves.
 * - `listOwned` returns every resource of this backend's owner (instance + scale set) and nothing else,
 *   including ones created by a previous process with the same owner (adoption after a crash).
 * - `events` pushes an `exited` event when a runner's process/container/VM ends for any reason.
 * - `close` stops background work (pools, sweepers, watchers); with `removeAll` it also deletes every
 *   owned runner. It never hangs: in-flight starts are aborted.
 */
export interface RunnerBackend {
  /**
   * Names the backend in metrics and logs: a config BackendKind (backends/index.ts) for the real ones;
   * test and benchmark fakes bring their own, which is why this is not that union.
   */
  readonly kind: string;
  /** What one runner is on this backend, for reports of what was removed. */
  readonly resourceKind: ResourceKind;
  readonly capabilities: BackendCapabilities;
  /** One-off preparation before the first start (image pull/ensure, pool fill kick-off). */
  prepare(signal: AbortSignal): Promise<void>;
  start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle>;
  remove(runnerName: string, signal: AbortSignal): Promise<void>;
  listOwned(signal: AbortSignal): Promise<OwnedRunner[]>;
  events(signal: AbortSignal): AsyncIterable<RunnerEvent>;
  /** Pool tiers for status and metrics, e.g. { warm: 2, sleeping: 3 }; empty when the backend has none. */
  poolStatus(): Record<string, number>;
  /**
   * Since when the backend's engine, CLI or API has answered none of its calls (a deadline passed, a
   * connection was refused or broke), with the last error; undefined while it answers. The daemon names
   * a long silence in health, status and the logs. Optional: a backend that cannot tell leaves it out.
   */
  silence?(): Silence | undefined;
  /**
   * The machines this backend places runners on (Docker's `[[docker.hosts]]`), for `runner hosts`,
   * status, the dashboard and the metrics. Optional: a backend without several hosts leaves it out.
   */
  hosts?(): BackendHost[];
  /**
   * Cordons (`true`) or uncordons a host by name: a cordoned host takes no new runner, its runners run
   * on. A host is shared by every scale set that lists it, so this applies to all of them. False when
   * this backend has no host of that name. Optional, with `hosts`.
   */
  cordon?(host: string, cordoned: boolean): boolean;
  /** The host a runner of this backend was placed on, while the backend knows it. Optional, with `hosts`. */
  hostOf?(runner: string): string | undefined;
  /**
   * The budgets this backend's runners draw on, as keys that are equal for every scale set drawing on
   * the same one (Docker: each host; Tart: the Mac; Dedalus: the account). Scale sets whose budgets
   * meet start their runners in job order when the budget is full (src/scaler/capacity-queue.ts).
   * Optional: without it a scale set keeps no line.
   */
  budgets?(): string[];
  /**
   * False when a start now would surely be refused for capacity (a full budget), so the scaler waits
   * in line without registering a runner at GitHub only to remove it again. Optional: without it
   * the scaler learns of a full budget from the start's BackendCapacityError.
   */
  hasRoom?(): boolean;
  /**
   * What this backend's runners cost beyond their jobs since it was made, by cause (Dedalus: awake
   * seconds the platform's sleep hold window added after jobs), for status, the dashboard and the
   * metrics. Optional: a backend with no such cost leaves it out.
   */
  costs?(): BackendCost[];
  close(opts?: { removeAll?: boolean; signal?: AbortSignal }): Promise<void>;
}

/** One cause of cost beyond the jobs themselves, totalled since the backend was made. */
export interface BackendCost {
  /** What causes it, as a metric label value, e.g. `hold-window`. */
  cause: string;
  /** Machine seconds it added. */
  seconds: number;
  /** Those seconds at the list prices, US dollars (an estimate). */
  usd: number;
}

/** A budget dimension: an amount, no cap (`max-runners` left out), or not known yet (engine not asked). */
export type HostLimit = number | 'unlimited' | 'unknown';

/** One host of a backend that has several, as the world outside the backend sees it. */
export interface BackendHost {
  name: string;
  /** Where it is reached (a Docker url); never carries a secret. */
  url: string;
  /** `joining`: not answered yet since start (or since it was added); `down`: stopped answering. */
  state: 'up' | 'down' | 'joining';
  cordoned: boolean;
  /** Why the host is not up (its last failed ping), when it is not. */
  error?: string;
  /** What the host may hold (runners, CPUs, memory bytes) and what runners there take now, all scale sets together. */
  budget: { count: HostLimit; cpus: HostLimit; memory: HostLimit };
  used: { count: number; cpus: number; memory: number };
}

/** The resource that holds one runner: a Docker container, a Tart VM, a Dedalus machine. */
export type ResourceKind = 'container' | 'vm' | 'machine';

export interface BackendCapabilities {
  /**
   * Most runners this backend can hold at once for this scale set (host VM cap, plan quota).
   * The scaler's target never exceeds it. Undefined: no limit beyond max-runners.
   */
  readonly maxRunners?: number;
  /**
   * How many idle registered runners the backend wants kept ready now (e.g. a warm tier that follows a
   * schedule). The scaler keeps at least this many idle runners, on top of min-runners semantics.
   */
  warmRunners?(): number;
}

/** Everything a backend needs to start one runner. */
export interface RunnerSpec {
  /** Runner name as registered at GitHub; unique per instance. Backends name resources after it. */
  name: string;
  /** GitHub runner id from the JIT registration. */
  runnerId: number;
  /** The encoded JIT config: a secret; deliver it by env or stdin, never argv. */
  jitConfig: Secret;
}

/** Where a started runner came from, for start-latency metrics. */
export type StartTier = 'cold' | 'warm' | 'woken';

export interface RunnerHandle {
  name: string;
  /** Backend resource id (container id, VM name, machine id). */
  resourceId: string;
  tier: StartTier;
  /** The host the runner was placed on, for a backend that has several (Docker's `[[docker.hosts]]`). */
  host?: string;
}

export type OwnedState = 'starting' | 'running' | 'exited' | 'unknown';

export interface OwnedRunner {
  name: string;
  resourceId: string;
  state: OwnedState;
  /** Set when the backend knows the GitHub runner id (labels, state file). */
  runnerId?: number;
  createdAt?: Date;
  exitCode?: number;
  /** The host the runner is on, for a backend that has several (Docker's `[[docker.hosts]]`). */
  host?: string;
}

export interface RunnerExitedEvent {
  type: 'exited';
  name: string;
  resourceId: string;
  exitCode?: number;
  /** Free text from the backend: "OOMKilled", "vm stopped", "execution expired"… */
  reason?: string;
  at: Date;
}

export type RunnerEvent = RunnerExitedEvent;

/** Who owns a resource. Backends stamp it (labels, names, state file) and filter listOwned by it. */
export interface Owner {
  /** Stable per daemon configuration (persisted in state-dir): restarts adopt, other daemons don't touch. */
  instanceId: string;
  /** Scale set name. */
  scaleSet: string;
}

/** What every backend factory receives. */
export interface BackendContext {
  owner: Owner;
  logger: Logger;
  /** Directory for the backend's state files (ownership where resources can't carry labels). */
  stateDir: string;
  /**
   * The scale set's network setting (proxy, CA) and its shared connection pool, for a backend that
   * calls an HTTP API (Dedalus). Absent in tests that build a context by hand: undici's defaults then.
   */
  network?: NetworkAccess;
  /**
   * The proxy variables and CA files the scale set's runners get (`runner-env`): each backend delivers
   * them into its container, VM or machine. Absent: runners get nothing (doctor, hand-built contexts).
   */
  runnerNetwork?: RunnerNetwork;
}

/** Thrown by `start` when the backend is at a capacity limit; the scaler retries later. */
export class BackendCapacityError extends RunnerError {
  readonly code = 'BACKEND_CAPACITY' as const;
  /**
   * `budget`: a budget scale sets share is full (a Docker host's runners, CPUs or memory); `backend`:
   * the backend's own cap (Tart's VMs per Mac, Dedalus machines or plan quota). Status says which.
   */
  readonly limit: 'budget' | 'backend';

  constructor(message: string, options?: { cause?: unknown; limit?: 'budget' | 'backend' }) {
    super(message, options);
    this.limit = options?.limit ?? 'backend';
  }
}
