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

export interface MachineRules {
  /**
   * Sleep is refused this long after the machine became running (created or woken): 409
   * SLEEP_HOLD_WINDOW_ACTIVE, as the real platform answers for about five minutes. 0 = no window.
   */
  sleepHoldWindowMs: number;
  /**
   * How a destroyed machine answers: 'hidden' (404, absent from lists) or 'listed' (retrieve and list
   * report phase `destroyed`; anything else on it is 409 INVALID_STATE). The docs allow both.
   */
  destroyed: 'hidden' | 'listed';
}

/** Machine lifecycle of the fake: phases with delays, driven by timers, observable for the SSE stream. */
export class FakeMachines {
  readonly all = new Map<string, FakeMachine>();
  readonly #listeners = new Set<(m: FakeMachine) => void>();

  constructor(
    private readonly root: string,
    private readonly delays: FakeDelays,
    private readonly hooks: MachineHooks,
    private readonly rules: MachineRules = { sleepHoldWindowMs: 0, destroyed: 'hidden' },
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
      lastWakeAt: undefined,
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

  /** A live machine, for anything but reading it: a destroyed one answers 404 or 409 (`rules.destroyed`). */
  get(id: string): FakeMachine {
    const m = this.retrieve(id);
    if (m.phase === 'destroyed') {
      throw new FakeApiError(409, 'INVALID_STATE', `machine ${id} is destroyed`, false, undefined, {
        current_observed_state: 'destroyed',
      });
    }
    return m;
  }

  /** A machine to read: destroyed ones answer 404, or are reported with phase destroyed (`rules.destroyed`). */
  retrieve(id: string): FakeMachine {
    const m = this.all.get(id);
    if (!m || (m.phase === 'destroyed' && this.rules.destroyed === 'hidden'))
      throw new FakeApiError(404, 'MACHINE_NOT_FOUND', `machine ${id} not found`);
    return m;
  }

  /** Machines the list reports. */
  listed(): FakeMachine[] {
    return [...this.all.values()].filter((m) => m.phase !== 'destroyed' || this.rules.destroyed === 'listed');
  }

  /** When the hold window lets this machine sleep (undefined: it may sleep now). */
  sleepEligibleAt(m: FakeMachine, now = Date.now()): number | undefined {
    if (this.rules.sleepHoldWindowMs <= 0 || m.lastWakeAt === undefined) return undefined;
    const at = m.lastWakeAt + this.rules.sleepHoldWindowMs;
    return at > now ? at : undefined;
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
    const eligibleAt = this.sleepEligibleAt(m);
    if (eligibleAt !== undefined) throw this.#holdWindow(m, eligibleAt);
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

  /**
   * Running machines idle for longer than their autosleep go to sleep on their own, once their hold
   * window allows (how the real autosleep meets the window is not documented: this is the fake's pick).
   */
  tickAutosleep(now: number): void {
    for (const m of this.all.values()) {
      if (m.phase !== 'running' || m.autosleepSeconds <= 0 || this.hooks.busy(m)) continue;
      if (this.sleepEligibleAt(m, now) !== undefined) continue;
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
      m.lastWakeAt = now;
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

  /** The documented refusal: retryable, `retry_after_ms` = what is left, the window in `details`. */
  #holdWindow(m: FakeMachine, eligibleAt: number): FakeApiError {
    const remaining = Math.max(1, eligibleAt - Date.now());
    const window = String(this.rules.sleepHoldWindowMs);
    return new FakeApiError(409, 'SLEEP_HOLD_WINDOW_ACTIVE', 'sleep hold window is active', true, remaining, {
      hold_window_ms: window,
      effective_hold_window_ms: window,
      jitter_ms: '0',
      last_wake_at: new Date(m.lastWakeAt ?? 0).toISOString(),
      next_sleep_eligible_at: new Date(eligibleAt).toISOString(),
      remaining_ms: String(remaining),
    });
  }

  #remaining(): number {
    return Math.max(10, Math.max(this.delays.accept + this.delays.start, this.delays.stop, this.delays.wake));
  }
}
