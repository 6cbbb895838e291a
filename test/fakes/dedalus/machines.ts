import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { FakeApiError } from './api-error.js';
import { machineDirs } from './paths.js';
import type { FakeDelays, FakeMachine, Phase } from './types.js';

export interface MachineHooks {
  /** The machine reached running (created or woken): thaw and start executions. */
  running(m: FakeMachine): void;
  /** The machine reached sleeping: freeze executions. The root filesystem is already wiped. */
  sleeping(m: FakeMachine): void;
  /** destroying/failed: every process dies. */
  gone(m: FakeMachine): void;
  /** Running executions, which count as activity and block autosleep. */
  busy(m: FakeMachine): boolean;
}

export interface MachineSpec {
  vcpu: number;
  memoryMib: number;
  storageGib: number;
  autosleepSeconds: number;
  foreign?: boolean;
}

/** Machine lifecycle of the fake: phases with delays, driven by timers, observable for the SSE stream. */
export class FakeMachines {
  readonly all = new Map<string, FakeMachine>();
  readonly #listeners = new Set<(m: FakeMachine) => void>();

  constructor(
    private readonly root: string,
    private readonly delays: FakeDelays,
    private readonly hooks: MachineHooks,
  ) {}

  create(spec: MachineSpec): FakeMachine {
    const id = `dm-${randomUUID()}`;
    const now = new Date();
    const dirs = machineDirs(this.root, id);
    mkdirSync(dirs.home, { recursive: true });
    mkdirSync(dirs.tmp, { recursive: true });
    const m: FakeMachine = {
      id,
      ...spec,
      foreign: spec.foreign ?? false,
      desired: 'running',
      phase: 'accepted',
      reason: 'created',
      revision: 1,
      createdAt: now,
      lastTransitionAt: now,
      lastActivityAt: Date.now(),
      history: ['accepted'],
      dirs,
      awakeSince: undefined,
      awakeMs: 0,
      timer: undefined,
    };
    this.all.set(id, m);
    this.#after(m, this.delays.accept, () => {
      this.#to(m, 'starting', 'placing');
      this.#after(m, this.delays.start, () => this.#to(m, 'running', 'ready'));
    });
    return m;
  }

  /** A live machine (destroyed ones answer 404, as deleted resources do). */
  get(id: string): FakeMachine {
    const m = this.all.get(id);
    if (!m || m.phase === 'destroyed')
      throw new FakeApiError(404, 'MACHINE_NOT_FOUND', `machine ${id} not found`);
    return m;
  }

  sleep(m: FakeMachine, reason: string, sleepWithRunning: 'freeze' | 'conflict'): void {
    if (m.phase === 'stopping' || m.phase === 'sleeping') return;
    if (m.phase === 'destroying' || m.phase === 'failed') {
      throw new FakeApiError(409, 'INVALID_STATE', `machine is ${m.phase}`);
    }
    if (m.phase !== 'running') {
      throw new FakeApiError(
        409,
        'STATE_CONFLICT',
        `machine is ${m.phase}; retry when running`,
        true,
        this.#remaining(),
      );
    }
    if (sleepWithRunning === 'conflict' && this.hooks.busy(m)) {
      throw new FakeApiError(409, 'EXECUTIONS_RUNNING', 'machine has running executions', false);
    }
    m.desired = 'sleeping';
    this.#to(m, 'stopping', reason);
    this.#after(m, this.delays.stop, () => {
      // The root filesystem does not survive sleep; /home/machine does (the Dedalus executions docs).
      rmSync(m.dirs.rootfs, { recursive: true, force: true });
      mkdirSync(m.dirs.tmp, { recursive: true });
      this.#to(m, 'sleeping', reason);
      this.hooks.sleeping(m);
    });
  }

  /** Idempotent, like the real wake: a running or starting machine is left alone. */
  wake(m: FakeMachine, reason: string): void {
    if (m.phase === 'running' || m.phase === 'starting' || m.phase === 'accepted') {
      m.desired = 'running';
      return;
    }
    if (m.phase === 'stopping') {
      throw new FakeApiError(
        409,
        'STATE_CONFLICT',
        'machine is stopping; retry when asleep',
        true,
        this.#remaining(),
      );
    }
    if (m.phase !== 'sleeping') throw new FakeApiError(409, 'INVALID_STATE', `machine is ${m.phase}`);
    m.desired = 'running';
    this.#to(m, 'starting', reason);
    this.#after(m, this.delays.wake, () => this.#to(m, 'running', reason));
  }

  destroy(m: FakeMachine): void {
    if (m.phase === 'destroying' || m.phase === 'destroyed') return;
    m.desired = 'destroyed';
    this.#to(m, 'destroying', 'delete requested');
    this.hooks.gone(m);
    this.#after(m, this.delays.destroy, () => {
      rmSync(m.dirs.base, { recursive: true, force: true });
      this.#to(m, 'destroyed', 'deleted');
    });
  }

  /** Test control: the machine breaks (host failure). */
  fail(m: FakeMachine, reason: string): void {
    clearTimeout(m.timer);
    this.#to(m, 'failed', reason);
    this.hooks.gone(m);
  }

  /** Running machines idle for longer than their autosleep go to sleep on their own. */
  tickAutosleep(now: number): void {
    for (const m of this.all.values()) {
      if (m.phase !== 'running' || m.autosleepSeconds <= 0 || this.hooks.busy(m)) continue;
      if (now - m.lastActivityAt >= m.autosleepSeconds * 1000) this.sleep(m, 'autosleep', 'freeze');
    }
  }

  onChange(fn: (m: FakeMachine) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  stopTimers(): void {
    for (const m of this.all.values()) clearTimeout(m.timer);
  }

  #to(m: FakeMachine, phase: Phase, reason: string): void {
    const now = Date.now();
    if (m.phase === 'running' && m.awakeSince !== undefined) {
      m.awakeMs += now - m.awakeSince;
      m.awakeSince = undefined;
    }
    m.phase = phase;
    m.reason = reason;
    m.revision++;
    m.lastTransitionAt = new Date(now);
    m.history.push(phase);
    if (phase === 'running') {
      m.awakeSince = now;
      // A wake is not activity by the docs, but without this a long-idle machine would fall asleep
      // again on the next tick, before anyone could use it.
      m.lastActivityAt = now;
      this.hooks.running(m);
    }
    for (const l of this.#listeners) l(m);
  }

  #after(m: FakeMachine, ms: number, fn: () => void): void {
    clearTimeout(m.timer);
    m.timer = setTimeout(() => {
      m.timer = undefined;
      fn();
    }, ms);
  }

  #remaining(): number {
    return Math.max(10, Math.max(this.delays.accept + this.delays.start, this.delays.stop, this.delays.wake));
  }
}
