import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../../src/util/poll-until.js';
import { FakeExecutions } from './executions.js';
import { FakeFaults } from './faults.js';
import { FakeMachines, type MachineSpec } from './machines.js';
import { serve } from './server.js';
import type { FakeDelays, FakeExecution, FakeMachine, RecordedRequest } from './types.js';

export type { FakeRoute, FaultSpec } from './faults.js';
export type { FakeDelays, FakeExecution, FakeMachine, RecordedRequest } from './types.js';

export interface FakeDedalusOptions {
  /** Host directory for machine trees (`<root>/<machine_id>/home/machine`, `…/rootfs`); default a temp dir. */
  root?: string;
  apiKey?: string;
  host?: string;
  port?: number;
  delays?: Partial<FakeDelays>;
  /**
   * An execution created on a sleeping machine: the docs hint at an implicit wake (status
   * `wake_in_progress` + `retry_after_ms`) but do not say so. [unknown] The fake defaults to the
   * implicit wake; 'conflict' answers 409 MACHINE_SLEEPING instead.
   */
  execOnSleeping?: 'implicit-wake' | 'conflict';
  /**
   * An explicit sleep while an execution runs: [unknown]. Default 'freeze': the processes are
   * SIGSTOPped and resume at wake (a memory snapshot, as the vendor describes sleep). 'conflict'
   * answers 409 EXECUTIONS_RUNNING.
   */
  sleepWithRunning?: 'freeze' | 'conflict';
  /** Largest page the list endpoints return, whatever `limit` asks (default 100). */
  maxPageLimit?: number;
  /** Live machines allowed; beyond it create answers 409 QUOTA_EXCEEDED ([unknown] status in reality). */
  machineQuota?: number;
  /** Create answers 202 (accepted) by default; 200 models "converged inline". */
  createStatus?: 200 | 202;
  /** How often autosleep is checked (default 100 ms). */
  autosleepTickMs?: number;
  /**
   * The platform's sleep hold window: a sleep within this many ms of the machine becoming running
   * (created or woken) answers 409 SLEEP_HOLD_WINDOW_ACTIVE, retryable, with `retry_after_ms` and
   * `details.next_sleep_eligible_at`. The real one is ~300 s (+ up to 10 s jitter); default 0 (none),
   * so tests that are not about it keep their timing.
   */
  sleepHoldWindowMs?: number;
  /** Destroyed machines answer 404 and leave lists ('hidden', default) or are reported with phase destroyed ('listed'). */
  destroyedMachines?: 'hidden' | 'listed';
  /** Execution ids (opaque to clients); default `ex-<uuid>`. */
  newExecutionId?: () => string;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

export const DEFAULT_DELAYS: FakeDelays = { accept: 50, start: 300, stop: 150, wake: 200, destroy: 100 };

/**
 * A fake Dedalus Machines API on a real HTTP server (port 0). Machines are directory trees and
 * executions are local processes, so a provision script and the fake runner really run "on" them.
 */
export class FakeDedalus {
  readonly url: string;
  readonly apiKey: string;
  readonly root: string;
  readonly requests: RecordedRequest[];
  readonly faults: FakeFaults;
  readonly #machines: FakeMachines;
  readonly #execs: FakeExecutions;
  readonly #server: Server;
  readonly #tick: NodeJS.Timeout;
  readonly #ownRoot: boolean;
  readonly #counted: { connections: number };

  /** TCP connections the fake accepted so far (a proxy test compares them with the proxy's log). */
  get connections(): number {
    return this.#counted.connections;
  }

  private constructor(
    server: Server,
    url: string,
    opts: FakeDedalusOptions,
    parts: {
      machines: FakeMachines;
      execs: FakeExecutions;
      root: string;
      ownRoot: boolean;
      apiKey: string;
      faults: FakeFaults;
      requests: RecordedRequest[];
      counted?: { connections: number };
    },
  ) {
    this.#counted = parts.counted ?? { connections: 0 };
    this.faults = parts.faults;
    this.requests = parts.requests;
    this.#server = server;
    this.url = url;
    this.apiKey = parts.apiKey;
    this.root = parts.root;
    this.#ownRoot = parts.ownRoot;
    this.#machines = parts.machines;
    this.#execs = parts.execs;
    this.#tick = setInterval(() => this.#machines.tickAutosleep(Date.now()), opts.autosleepTickMs ?? 100);
    this.#tick.unref();
  }

  static async start(opts: FakeDedalusOptions = {}): Promise<FakeDedalus> {
    const root = opts.root ?? mkdtempSync(join(tmpdir(), 'fake-dedalus-'));
    const delays = { ...DEFAULT_DELAYS, ...opts.delays };
    const apiKey = opts.apiKey ?? `dk-test-${randomBytes(12).toString('hex')}`;
    let machines: FakeMachines | undefined;
    const execs = new FakeExecutions({
      execOnSleeping: opts.execOnSleeping ?? 'implicit-wake',
      wakeRetryAfterMs: delays.wake,
      wake: (m) => machines?.wake(m, 'execution requested'),
      newExecutionId: opts.newExecutionId,
    });
    machines = new FakeMachines(
      root,
      delays,
      {
        running: (m) => execs.machineRunning(m),
        sleeping: (m) => execs.machineSleeping(m),
        gone: (m) => execs.machineGone(m),
        busy: (m) => execs.busy(m),
      },
      { sleepHoldWindowMs: opts.sleepHoldWindowMs ?? 0, destroyed: opts.destroyedMachines ?? 'hidden' },
    );
    const deps = {
      apiKey,
      faults: new FakeFaults(),
      requests: [] as RecordedRequest[],
      idempotency: new Map(),
      ctx: {
        machines,
        executions: execs,
        maxPageLimit: opts.maxPageLimit ?? 100,
        wakeRetryAfterMs: delays.wake,
        sleepWithRunning: opts.sleepWithRunning ?? 'freeze',
        machineQuota: opts.machineQuota ?? Number.POSITIVE_INFINITY,
        createStatus: opts.createStatus ?? 202,
      },
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      serve(deps, req, res).catch((err: unknown) => res.destroy(err as Error));
    };
    const server: Server = opts.tls
      ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
      : createServer(handler);
    const counted = { connections: 0 };
    server.on('connection', () => counted.connections++);
    await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
    const { address, port } = server.address() as AddressInfo;
    const scheme = opts.tls ? 'https' : 'http';
    const fake = new FakeDedalus(server, `${scheme}://${address}:${port}`, opts, {
      counted,
      machines,
      execs,
      root,
      ownRoot: opts.root === undefined,
      apiKey,
      faults: deps.faults,
      requests: deps.requests,
    });
    return fake;
  }

  /** Every machine ever made, destroyed ones included (the API hides those). */
  machines(): FakeMachine[] {
    return [...this.#machines.all.values()];
  }

  machine(id: string): FakeMachine | undefined {
    return this.#machines.all.get(id);
  }

  executions(machineId?: string): FakeExecution[] {
    const all = [...this.#execs.all.values()];
    return machineId ? all.filter((e) => e.machineId === machineId) : all;
  }

  /** When the sleep hold window lets this machine sleep (ms since epoch); undefined when it may sleep now. */
  sleepEligibleAt(id: string): number | undefined {
    const m = this.#machines.all.get(id);
    return m ? this.#machines.sleepEligibleAt(m) : undefined;
  }

  /**
   * Test control: the machine's hold window starts again now, as if it had just woken. For a test whose
   * premise is a claim inside the window: on a loaded machine the job before it can use the window up.
   */
  restartHoldWindow(id: string): void {
    const m = this.#machines.all.get(id);
    if (m) m.lastWakeAt = Date.now();
  }

  /** Makes a machine as another tool would: not through this API client, so nobody's state file knows it. */
  createMachineDirect(spec: Partial<MachineSpec> = {}): FakeMachine {
    return this.#machines.create({
      vcpu: 1,
      memoryMib: 1024,
      storageGib: 10,
      autosleepSeconds: 0,
      foreign: true,
      ...spec,
    });
  }

  /** Deletes every live machine behind the API's back (test cleanup; not recorded). */
  destroyAll(): void {
    for (const m of this.#machines.all.values()) this.#machines.destroy(m);
  }

  /** The machine breaks (phase failed): its processes die. */
  failMachine(id: string, reason = 'host failure'): void {
    const m = this.#machines.all.get(id);
    if (m) this.#machines.fail(m, reason);
  }

  /** Requests that named this machine in their path. */
  requestsFor(machineId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.machineId === machineId);
  }

  mutations(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  waitFor<T>(fn: () => T | undefined | false, opts: { timeout?: number; what?: string } = {}): Promise<T> {
    return pollUntil(fn, {
      timeout: opts.timeout ?? 10_000,
      interval: 20,
      what: opts.what ?? 'fake dedalus condition',
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#tick);
    this.#machines.stopTimers();
    this.#execs.killAll();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#ownRoot) rmSync(this.root, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function startFakeDedalus(opts: FakeDedalusOptions = {}): Promise<FakeDedalus> {
  return FakeDedalus.start(opts);
}
