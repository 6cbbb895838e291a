import { Backoff } from '../../src/util/backoff.js';
import type { Owner } from '../types.js';
import { vmSize } from './host.js';
import { poolVmName } from './names.js';
import { type BootedVm, bootVm, destroyVm, type VmEnv } from './vm.js';

/**
 * Exactly `size` pre-booted VMs, never more: ready + booting is bounded by `size` at every instant
 * (a VM is counted from the moment its slot is taken until it is handed out, dies or is deleted).
 * Each ready VM is watched through its `tart run` child and replaced when it dies. Boots draw slots from
 * the host cap like any VM; when none is free the pool waits for a release instead of polling.
 * Failed boots back off (1 s → 60 s). `close()` aborts boots in flight (their cleanup deletes the
 * clones) and deletes ready VMs, so shutdown never waits on the pool.
 */
export class WarmPool {
  readonly #ready: BootedVm[] = [];
  readonly #booting = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();
  readonly #backoff = new Backoff({ initial: 1_000, max: 60_000, jitter: 0.2 });
  #retryTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly env: VmEnv,
    private readonly owner: Owner,
    private readonly size: number,
  ) {}

  start(): void {
    this.#unsubscribe = this.env.host.onRelease(() => this.#fill());
    this.#fill();
  }

  /** A ready VM, now the caller's (its slot and MAC go with it), or undefined. */
  take(): BootedVm | undefined {
    const vm = this.#ready.shift();
    if (vm) queueMicrotask(() => this.#fill());
    return vm;
  }

  status(): { warm: number; booting: number } {
    return { warm: this.#ready.length, booting: this.#booting.size };
  }

  async close(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#retryTimer);
    this.#unsubscribe?.();
    await Promise.allSettled(this.#booting.values());
    const ready = this.#ready.splice(0);
    await Promise.allSettled(
      ready.map((vm) =>
        destroyVm(this.env, vm.name).catch((err: unknown) => {
          this.env.logger.error({ err, vm: vm.name }, 'could not delete warm VM');
          throw err;
        }),
      ),
    );
  }

  #fill(): void {
    if (this.#stop.signal.aborted || this.#retryTimer) return;
    while (this.#ready.length + this.#booting.size < this.size) {
      const name = poolVmName(this.owner);
      const slot = this.env.host.acquire(name, vmSize(this.env.tart));
      if (slot === undefined) return; // host cap reached; onRelease calls us again
      const boot = this.#boot(name, slot);
      this.#booting.set(name, boot);
    }
  }

  async #boot(name: string, slot: number): Promise<void> {
    try {
      const vm = await bootVm(this.env, name, slot, { kind: 'pool' }, this.#stop.signal);
      this.#booting.delete(name);
      this.#backoff.reset();
      this.#ready.push(vm);
      void vm.run.exited.then(() => this.#onDeath(vm));
      this.env.logger.debug({ vm: name }, 'warm VM ready');
    } catch (err) {
      this.#booting.delete(name);
      if (this.#stop.signal.aborted) return; // close() aborted it; bootVm already deleted the clone
      const wait = this.#backoff.next();
      this.env.logger.warn({ err, vm: name, retryInMs: wait }, 'warm VM boot failed');
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#fill();
      }, wait);
      this.#retryTimer.unref();
      return;
    }
    this.#fill();
  }

  /** A warm VM's `tart run` ended: unless it was handed out meanwhile, delete it and boot another. */
  #onDeath(vm: BootedVm): void {
    const i = this.#ready.indexOf(vm);
    if (i < 0 || this.#stop.signal.aborted) return;
    this.#ready.splice(i, 1);
    this.env.logger.warn({ vm: vm.name }, 'warm VM died; replacing it');
    this.env.track(
      destroyVm(this.env, vm.name)
        .catch((err: unknown) => this.env.logger.error({ err, vm: vm.name }, 'could not delete dead warm VM'))
        .finally(() => this.#fill()),
    );
  }
}
