import { anySignal } from '../../src/kernel/abort.js';
import type { EventHub } from '../../src/kernel/events.js';
import type { Logger } from '../../src/log.js';
import type { RunnerEvent, RunnerSpec } from '../types.js';
import type { AdoptedRunner } from './adopt.js';
import type { RunChild } from './cli.js';
import { type RunnerEnd, superviseRunner } from './supervise.js';
import { destroyVm, type VmEnv } from './vm.js';

export interface RunnerEntry {
  readonly name: string;
  readonly vm: string;
  /** Aborts when the caller's signal does, the backend closes, or the runner is removed mid-start. */
  readonly signal: AbortSignal;
  settle(): void;
}

interface Entry extends RunnerEntry {
  run?: RunChild;
  starting?: { abort: AbortController; done: Promise<void> };
  supervisor?: { stop(): void };
  removing?: boolean;
}

/**
 * The runners this backend knows, by runner name: starts in flight, running runners and adopted ones.
 * It turns runner ends into `exited` events (except for runners being removed: the scaler asked for
 * that) and makes `remove` idempotent and safe against a start still in flight.
 */
export class RunnerTable {
  readonly #entries = new Map<string, Entry>();
  readonly #removals = new Map<string, Promise<void>>();

  constructor(
    private readonly env: VmEnv,
    private readonly events: EventHub<RunnerEvent>,
    private readonly logger: Logger,
  ) {}

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  begin(spec: RunnerSpec, vm: string, signal: AbortSignal): RunnerEntry {
    if (this.#entries.has(spec.name)) throw new Error(`runner ${spec.name} is already starting or running`);
    const abort = new AbortController();
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const entry: Entry = {
      name: spec.name,
      vm,
      signal: anySignal(signal, abort.signal),
      settle,
      starting: { abort, done },
    };
    this.#entries.set(spec.name, entry);
    return entry;
  }

  started(entry: RunnerEntry, run: RunChild): void {
    const e = entry as Entry;
    e.starting = undefined;
    e.run = run;
    this.#supervise(e);
  }

  forget(entry: RunnerEntry): void {
    if (this.#entries.get(entry.name) === entry) this.#entries.delete(entry.name);
  }

  adopt(r: AdoptedRunner): void {
    if (this.#entries.has(r.name)) return;
    const e: Entry = { name: r.name, vm: r.vm, signal: new AbortController().signal, settle: () => {} };
    this.#entries.set(r.name, e);
    if (r.ended) return;
    if (r.running) this.#supervise(e);
    else this.#emit(e, { reason: 'vm stopped while the daemon was down' });
  }

  /** Resolves when no start is in flight. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#entries.values()].map((e) => e.starting?.done));
  }

  remove(name: string, signal: AbortSignal): Promise<void> {
    const pending = this.#removals.get(name);
    if (pending) return pending;
    const p = this.#remove(name, signal).finally(() => this.#removals.delete(name));
    this.#removals.set(name, p);
    return p;
  }

  async #remove(name: string, signal: AbortSignal): Promise<void> {
    const e = this.#entries.get(name);
    if (e) {
      e.removing = true;
      e.supervisor?.stop();
      if (e.starting) {
        e.starting.abort.abort(new Error(`runner ${name} removed while starting`));
        await e.starting.done;
      }
    }
    const vm = e?.vm ?? (await this.#lookup(name));
    if (vm) await destroyVm(this.env, vm, signal);
    if (e && this.#entries.get(name) === e) this.#entries.delete(name);
  }

  /** A runner this process did not start (an adopted one, or a leftover warm VM listed by VM name). */
  async #lookup(name: string): Promise<string | undefined> {
    const records = await this.env.journal.read();
    if (records[name]) return name;
    return Object.entries(records).find(([, rec]) => rec.runner === name)?.[0];
  }

  /** Closing: no more events, whatever happens to the VMs from now on. */
  stopWatching(): void {
    for (const e of this.#entries.values()) {
      e.removing = true;
      e.supervisor?.stop();
    }
  }

  /**
   * Close without removeAll: runner VMs keep running (a job may be on them) for the next daemon to
   * adopt. Their `tart run` children stop holding the event loop, their host slots are freed, and their
   * records are released to whichever backend adopts them next (even one in this same process).
   */
  async detach(): Promise<void> {
    const left = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of left) {
      e.supervisor?.stop();
      e.run?.unref();
      this.env.host.release(e.vm);
    }
    await this.env.journal.update((vms) => {
      for (const e of left) {
        const rec = vms[e.vm];
        if (rec) vms[e.vm] = { ...rec, proc: 'detached' };
      }
    });
  }

  #supervise(e: Entry): void {
    e.supervisor = superviseRunner({
      cli: this.env.cli,
      vm: e.vm,
      ...(e.run ? { run: e.run } : {}),
      logger: this.logger,
      onEnd: (end) => this.#emit(e, end),
    });
  }

  #emit(e: Entry, end: RunnerEnd): void {
    if (e.removing) return;
    this.logger.info({ runner: e.name, vm: e.vm, ...end }, 'runner ended');
    const at = new Date();
    // Recorded so listOwned (of this or a later daemon) says exited, with the code, without asking the guest.
    const exit = {
      reason: end.reason,
      at: at.toISOString(),
      ...(end.exitCode === undefined ? {} : { code: end.exitCode }),
    };
    this.env.track(
      this.env.journal
        .patch(e.vm, { exit })
        .catch((err: unknown) => this.logger.warn({ err, vm: e.vm }, 'could not record the runner end')),
    );
    this.events.emit({
      type: 'exited',
      name: e.name,
      resourceId: e.vm,
      ...(end.exitCode === undefined ? {} : { exitCode: end.exitCode }),
      reason: end.reason,
      at,
    });
  }
}
