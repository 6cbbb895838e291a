import type { Clock } from '../../src/kernel/clock.js';
import type { EventHub } from '../../src/kernel/events.js';
import type { Logger } from '../../src/log.js';
import type { RunnerNetwork } from '../../src/net/runner-network.js';
import type { Owner, RunnerEvent } from '../types.js';
import type { DedalusClient } from './api/index.js';
import type { DedalusConfig } from './config.js';
import type { FiguresLog } from './figures.js';
import type { Fleet } from './fleet.js';
import type { MachineOps } from './machine-ops.js';
import type { DedalusTiming } from './options.js';
import type { QuotaShare } from './quota.js';
import type { Slot } from './slot.js';

/** Running totals since the backend was made, for metrics and tests. */
export interface DedalusCounters {
  created: number;
  provisioned: number;
  provisionFailures: number;
  woken: number;
  slept: number;
  /** Sleeps the platform refused for its hold window (the machine stayed warm, a timer slept it later). */
  sleepsHeld: number;
  /** Sleeps refused as not retryable: never sent again while that machine stayed awake. */
  sleepsRefused: number;
  /** Seconds machines stayed awake, job or not, because the hold window refused their sleep. */
  holdWindowSeconds: number;
  deleted: number;
  recycled: number;
  /** Machines deleted because the platform reported them failed. */
  replaced: number;
  runnersStarted: number;
  runnersExited: number;
}

/** What the parts of the backend share; built once by DedalusBackend. */
export interface DedalusContext {
  cfg: DedalusConfig;
  owner: Owner;
  timing: DedalusTiming;
  client: DedalusClient;
  ops: MachineOps;
  fleet: Fleet;
  log: Logger;
  events: EventHub<RunnerEvent>;
  figures: FiguresLog;
  counters: DedalusCounters;
  now: () => Date;
  /** Time for the sleep hold window's timer and for the figures (awake seconds). */
  clock: Clock;
  /** Aborted by close(): in-flight starts, watchers and pool work stop. Cleanup paths do not use it. */
  closing: AbortSignal;
  /** Runs pool maintenance soon (coalesced). */
  kick(): void;
  /** Background work that close() waits for. */
  track(p: Promise<unknown>): void;
  /** A pool machine being made that no start has taken yet, handed to the caller. */
  takePoolCreation(): Promise<Slot> | undefined;
  /** The provision script's text (read once from dedalus.provision-script, or the built-in default). */
  provisionScript(): Promise<string>;
  /** The proxy and CA the runners get (`runner-env`), delivered with each runner's execution. */
  runnerNetwork: RunnerNetwork | undefined;
  /** The account's quota of awake vCPUs and memory (quota.ts): checked before every wake and create. */
  quota: QuotaShare;
}

export function newCounters(): DedalusCounters {
  return {
    created: 0,
    provisioned: 0,
    provisionFailures: 0,
    woken: 0,
    slept: 0,
    sleepsHeld: 0,
    sleepsRefused: 0,
    holdWindowSeconds: 0,
    deleted: 0,
    recycled: 0,
    replaced: 0,
    runnersStarted: 0,
    runnersExited: 0,
  };
}
