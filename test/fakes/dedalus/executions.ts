import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { FakeApiError } from './api-error.js';
import { mapGuestEnvValue, mapGuestText } from './paths.js';
import type { ExecStatus, FakeExecution, FakeMachine } from './types.js';

export interface CreateExecBody {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  stdin?: string;
  timeout_ms?: number;
}

export interface ExecOptions {
  /** [unknown] in the docs; the fake picks one per instance (see index.ts). */
  execOnSleeping: 'implicit-wake' | 'conflict';
  /** retry_after_ms on a `wake_in_progress` execution. */
  wakeRetryAfterMs: number;
  /** Makes execution ids (they are opaque to clients; default `ex-<uuid>`). */
  newExecutionId?: (() => string) | undefined;
  wake(m: FakeMachine): void;
}

const OUTPUT_LIMIT = 1 << 20;
const TERMINAL = new Set<ExecStatus>(['succeeded', 'failed', 'cancelled', 'expired']);

/**
 * Executions as local processes in the machine's directory tree. Each runs in its own process group,
 * so cancel, timeout, sleep (SIGSTOP) and wake (SIGCONT) reach every process it started.
 */
export class FakeExecutions {
  readonly all = new Map<string, FakeExecution>();

  constructor(private readonly o: ExecOptions) {}

  create(m: FakeMachine, body: CreateExecBody): FakeExecution {
    if (m.phase === 'stopping')
      throw new FakeApiError(409, 'STATE_CONFLICT', 'machine is stopping', true, 50);
    if (m.phase === 'destroying' || m.phase === 'failed') {
      throw new FakeApiError(409, 'INVALID_STATE', `machine is ${m.phase}`);
    }
    if (m.phase === 'sleeping' && this.o.execOnSleeping === 'conflict') {
      throw new FakeApiError(409, 'MACHINE_SLEEPING', 'machine is asleep; wake it first');
    }
    const e: FakeExecution = {
      id: this.o.newExecutionId?.() ?? `ex-${randomUUID()}`,
      machineId: m.id,
      command: body.command,
      cwd: body.cwd,
      env: body.env ?? {},
      stdin: body.stdin,
      timeoutMs: body.timeout_ms,
      status: 'queued',
      createdAt: new Date(),
      startedAt: undefined,
      completedAt: undefined,
      exitCode: undefined,
      signal: undefined,
      errorCode: undefined,
      errorMessage: undefined,
      stdout: '',
      stderr: '',
      events: [],
      child: undefined,
      frozen: false,
      timer: undefined,
    };
    this.all.set(e.id, e);
    m.lastActivityAt = Date.now();
    if (m.phase === 'sleeping') {
      this.#set(e, 'wake_in_progress');
      this.o.wake(m);
    } else if (m.phase === 'running') this.#start(m, e);
    else this.#set(e, 'queued');
    return e;
  }

  forMachine(machineId: string): FakeExecution[] {
    return [...this.all.values()].filter((e) => e.machineId === machineId);
  }

  get(machineId: string, id: string): FakeExecution {
    const e = this.all.get(id);
    if (!e || e.machineId !== machineId)
      throw new FakeApiError(404, 'EXECUTION_NOT_FOUND', `execution ${id} not found`);
    return e;
  }

  busy(m: FakeMachine): boolean {
    return this.forMachine(m.id).some((e) => e.status === 'running');
  }

  /** DELETE: the fake kills the process group (whether the real API does is [unknown]). */
  cancel(e: FakeExecution): void {
    if (TERMINAL.has(e.status)) return;
    this.#end(e, 'cancelled');
  }

  machineRunning(m: FakeMachine): void {
    for (const e of this.forMachine(m.id)) {
      if (e.frozen) {
        e.frozen = false;
        signalGroup(e, 'SIGCONT');
      }
      if (e.status === 'queued' || e.status === 'wake_in_progress') this.#start(m, e);
    }
  }

  /** Sleep freezes processes (memory is snapshotted, per the vendor); they resume at wake. */
  machineSleeping(m: FakeMachine): void {
    for (const e of this.forMachine(m.id)) {
      if (e.status !== 'running') continue;
      e.frozen = true;
      signalGroup(e, 'SIGSTOP');
    }
  }

  machineGone(m: FakeMachine): void {
    for (const e of this.forMachine(m.id)) {
      if (TERMINAL.has(e.status)) continue;
      e.errorCode = 'MACHINE_GONE';
      e.errorMessage = `machine is ${m.phase}`;
      this.#end(e, 'failed');
    }
  }

  killAll(): void {
    for (const e of this.all.values()) if (!TERMINAL.has(e.status)) this.#end(e, 'cancelled');
  }

  #start(m: FakeMachine, e: FakeExecution): void {
    const [file, ...args] = e.command.map((a) => mapGuestText(m.dirs, a));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: m.dirs.home,
      TMPDIR: m.dirs.tmp,
      LANG: 'C.UTF-8',
    };
    for (const [k, v] of Object.entries(e.env)) env[k] = mapGuestEnvValue(m.dirs, v);
    e.startedAt = new Date();
    this.#set(e, 'running');
    const child = spawn(file ?? '', args, {
      cwd: mapGuestText(m.dirs, e.cwd ?? '/home/machine'),
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    e.child = child;
    child.stdin.on('error', () => {});
    child.stdin.end(e.stdin === undefined ? undefined : mapGuestText(m.dirs, e.stdin));
    child.stdout.on('data', (c: Buffer) => this.#output(e, 'stdout', c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => this.#output(e, 'stderr', c.toString('utf8')));
    child.on('error', (err) => {
      e.errorCode = 'SPAWN_FAILED';
      e.errorMessage = err.message;
      this.#finish(m, e, child, 127, null);
    });
    child.on('exit', (code, sig) => {
      // What the main process left behind in its group goes with it, so its pipes close and the
      // output is complete before the status turns terminal (the fake must not leak processes).
      signalGroup(e, 'SIGKILL');
      const done = () => this.#finish(m, e, child, code, sig);
      child.once('close', done);
      // A process that left the group (setsid) may hold the pipes open: do not wait for it forever.
      setTimeout(done, 1000).unref();
    });
    if (e.timeoutMs !== undefined && e.timeoutMs > 0) {
      e.timer = setTimeout(() => this.#end(e, 'expired'), e.timeoutMs);
    }
  }

  /** Ends it on our side (cancel, timeout, machine gone): the status is final at once, the exit only adds detail. */
  #end(e: FakeExecution, as: 'cancelled' | 'expired' | 'failed'): void {
    clearTimeout(e.timer);
    signalGroup(e, 'SIGKILL');
    e.completedAt ??= new Date();
    this.#set(e, as);
  }

  #finish(
    m: FakeMachine,
    e: FakeExecution,
    child: ChildProcess,
    code: number | null,
    sig: NodeJS.Signals | null,
  ): void {
    if (e.child !== child) return;
    clearTimeout(e.timer);
    e.child = undefined;
    m.lastActivityAt = Date.now();
    e.exitCode ??= code ?? undefined;
    e.signal ??= sig ? constants.signals[sig] : undefined;
    if (TERMINAL.has(e.status)) return;
    e.completedAt = new Date();
    this.#set(e, code === 0 ? 'succeeded' : 'failed');
  }

  #output(e: FakeExecution, type: 'stdout' | 'stderr', chunk: string): void {
    if (e[type].length < OUTPUT_LIMIT) e[type] += chunk.slice(0, OUTPUT_LIMIT - e[type].length);
    e.events.push({ sequence: e.events.length + 1, type, at: new Date().toISOString(), chunk });
  }

  #set(e: FakeExecution, status: ExecStatus): void {
    e.status = status;
    e.events.push({
      sequence: e.events.length + 1,
      type: 'lifecycle',
      at: new Date().toISOString(),
      status,
      ...(e.exitCode !== undefined ? { exit_code: e.exitCode } : {}),
      ...(e.signal !== undefined ? { signal: e.signal } : {}),
    });
  }
}

function signalGroup(e: FakeExecution, sig: NodeJS.Signals): void {
  const pid = e.child?.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone
  }
}
