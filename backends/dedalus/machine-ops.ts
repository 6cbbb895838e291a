import { anySignal, delay } from '../../src/kernel/abort.js';
import type { Logger } from '../../src/log.js';
import { Backoff } from '../../src/util/backoff.js';
import { type DedalusClient, isNotFound } from './api/index.js';
import type { CreateExecutionBody, Execution, Machine, MachinePhase } from './api/schemas.js';
import { DedalusBackendError } from './errors.js';
import { assertSucceeded, waitExecution } from './exec-wait.js';
import type { DedalusTiming } from './options.js';

/** A machine reported `destroyed` is as gone as one that answers 404 (the API may list it a while). */
export function isGone(m: Machine): boolean {
  return m.status.phase === 'destroyed';
}

/** Margin on top of an execution's own timeout before we stop waiting for the platform to end it. */
const EXEC_MARGIN_MS = 30_000;

/**
 * Machine steps as "do it and wait until it is true": wake until running, sleep until asleep, delete
 * until gone, run until ended. Each is bounded by a timeout and the caller's signal.
 */
export class MachineOps {
  constructor(
    readonly client: DedalusClient,
    readonly timing: DedalusTiming,
    private readonly log: Logger,
  ) {}

  /** Polls until the phase is one of `want`. `failed`, and destroying/destroyed unless wanted, end the wait with an error. */
  async waitPhase(
    machineId: string,
    want: readonly MachinePhase[],
    timeoutMs: number,
    signal: AbortSignal,
    onPhase?: (m: Machine) => Promise<void> | void,
  ): Promise<Machine> {
    const deadline = Date.now() + timeoutMs;
    const backoff = new Backoff({
      initial: this.timing.pollInitialMs,
      max: this.timing.pollMaxMs,
      jitter: 0.1,
    });
    for (;;) {
      const m = await this.client.machines.retrieve(machineId, signal);
      const phase = m.status.phase;
      if (want.includes(phase)) return m;
      const gone = phase === 'destroyed' || phase === 'destroying';
      if (phase === 'failed' || (gone && !want.includes('destroyed'))) {
        throw new DedalusBackendError(
          'DEDALUS_MACHINE_FAILED',
          `machine ${machineId} is ${phase}${m.status.last_error ? `: ${m.status.last_error}` : ''}`,
        );
      }
      await onPhase?.(m);
      if (Date.now() >= deadline) {
        throw new DedalusBackendError(
          'DEDALUS_TIMEOUT',
          `machine ${machineId} not ${want.join('/')} after ${timeoutMs} ms (last phase ${phase}, reason ${m.status.reason ?? '-'})`,
        );
      }
      await delay(Math.min(backoff.next(), Math.max(0, deadline - Date.now())), signal);
    }
  }

  /** Wakes and waits until running; returns how long that took. A machine that falls asleep again is woken again. */
  async wake(machineId: string, signal: AbortSignal): Promise<number> {
    const started = Date.now();
    await this.client.machines.wake(machineId, signal);
    await this.waitPhase(machineId, ['running'], this.timing.wakeTimeoutMs, signal, async (m) => {
      if (m.status.phase === 'sleeping') await this.client.machines.wake(machineId, signal);
    });
    return Date.now() - started;
  }

  /**
   * Sleeps and waits until asleep. Already asleep (or stopping) is fine; `wanted() === false` just
   * before the request means not at all ('unwanted'). The request is sent once: a
   * refusal (the hold window after a wake, a state race) is the caller's to defer, since waiting on it
   * here would hold the machine's lock for minutes (sleeper.ts).
   */
  async sleep(
    machineId: string,
    signal: AbortSignal,
    wanted: () => boolean = () => true,
  ): Promise<'asleep' | 'gone' | 'unwanted'> {
    const m = await this.read(machineId, signal);
    if (!m) return 'gone';
    if (m.status.phase !== 'sleeping' && m.status.phase !== 'stopping') {
      // Asked last thing before the request: a job may have claimed the machine while we read it.
      if (!wanted()) return 'unwanted';
      await this.client.machines.sleep(machineId, signal, { maxRetries: 0 });
    }
    await this.waitPhase(machineId, ['sleeping'], this.timing.sleepTimeoutMs, signal);
    return 'asleep';
  }

  /** The machine as the API reports it, or undefined when it is gone: 404, or phase `destroyed`. */
  async read(machineId: string, signal: AbortSignal): Promise<Machine | undefined> {
    try {
      const m = await this.client.machines.retrieve(machineId, signal);
      return isGone(m) ? undefined : m;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Deletes and waits until gone; not found counts as done (delete is idempotent for us). */
  async destroy(machineId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.machines.delete(machineId, signal);
      await this.waitPhase(machineId, ['destroyed'], this.timing.deleteTimeoutMs, signal);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  /** Starts an execution on an awake machine and waits for it to end; throws unless it succeeded. */
  async run(
    machineId: string,
    body: CreateExecutionBody,
    what: string,
    signal: AbortSignal,
  ): Promise<Execution> {
    const e = await this.client.executions.create(machineId, body, signal);
    const timeout = body.timeout_ms ?? this.timing.scrubTimeoutMs;
    const done = await waitExecution(this.client, machineId, e, {
      signal,
      deadline: Date.now() + timeout + EXEC_MARGIN_MS,
      initialMs: this.timing.pollInitialMs,
      maxMs: this.timing.pollMaxMs,
    });
    await assertSucceeded(this.client, machineId, done, what, signal);
    return done;
  }

  /**
   * DELETE on an execution. The API does not document whether that kills the process, so callers
   * also run the scrub (which kills the runner's process tree) or sleep/delete the machine.
   */
  async cancel(machineId: string, executionId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.executions.delete(machineId, executionId, signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Best effort, for cleanup paths: logs instead of throwing. */
  async quietly(
    what: string,
    fn: (signal: AbortSignal) => Promise<unknown>,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    try {
      await fn(anySignal(AbortSignal.timeout(timeoutMs), signal));
      return true;
    } catch (err) {
      this.log.warn({ err }, `${what} failed`);
      return false;
    }
  }
}
