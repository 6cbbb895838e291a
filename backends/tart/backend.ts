import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { anySignal } from '../../src/kernel/abort.js';
import type { Silence } from '../../src/kernel/answers.js';
import { EventHub } from '../../src/kernel/events.js';
import { Once } from '../../src/kernel/once.js';
import { TaskTracker } from '../../src/kernel/tasks.js';
import type { Logger } from '../../src/log.js';
import type { RunnerNetwork } from '../../src/net/runner-network.js';
import {
  type BackendCapabilities,
  BackendCapacityError,
  type BackendContext,
  type OwnedRunner,
  type Owner,
  type RunnerBackend,
  type RunnerEvent,
  type RunnerHandle,
  type RunnerSpec,
} from '../types.js';
import { adoptVms, listOwnedVms } from './adopt.js';
import { TartCli, tartHome } from './cli.js';
import type { TartConfig } from './config.js';
import { TartError } from './errors.js';
import { startRunner } from './guest.js';
import { MAX_SLOTS, tartHost, vmSize } from './host.js';
import { ensureImage } from './image.js';
import { Journal } from './journal.js';
import { journalPath, runnerVmName } from './names.js';
import { WarmPool } from './pool.js';
import { schedulePrune } from './prune.js';
import { RunnerTable } from './runners.js';
import { type BootedVm, bootVm, destroyVm, type VmEnv } from './vm.js';

export interface TartBackendOptions {
  /** `runner-image`: the VM (local name or OCI reference) every runner VM is cloned from. */
  image: string;
  tart: TartConfig;
  /** The tart executable (default `tart` on PATH). */
  tartBin?: string;
}

export function createTartBackend(ctx: BackendContext, opts: TartBackendOptions): RunnerBackend {
  return new TartBackend(ctx, opts);
}

/** The config layer validates too; this guards direct callers (tests, doctor) and names the key. */
function checkOptions({ image, tart: t }: TartBackendOptions): void {
  if (!image) throw new TypeError('runner-image is required for backend = "tart"');
  if (!Number.isInteger(t.maxVms) || t.maxVms < 1 || t.maxVms > MAX_SLOTS) {
    throw new RangeError(`[tart] max-vms: expected an integer 1..${MAX_SLOTS}, got ${t.maxVms}`);
  }
  if (!Number.isInteger(t.poolSize) || t.poolSize < 0) {
    throw new RangeError(`[tart] pool-size: expected an integer ≥ 0, got ${t.poolSize}`);
  }
}

/** Runner VMs on this Mac through the tart CLI; see the module files for each part's reasoning. */
class TartBackend implements RunnerBackend {
  readonly kind = 'tart' as const;
  readonly resourceKind = 'vm' as const;
  readonly capabilities: BackendCapabilities;
  readonly #env: VmEnv;
  readonly #owner: Owner;
  readonly #logger: Logger;
  readonly #tart: TartConfig;
  readonly #events = new EventHub<RunnerEvent>();
  readonly #closing = new AbortController();
  readonly #runners: RunnerTable;
  readonly #unregister: () => void;
  /** Work nobody awaits (exit records, replacing dead warm VMs) that close() still waits for. */
  readonly #background: TaskTracker;
  /** Image, adoption, pruner and pool: once, retried by the next call after a failure. */
  readonly #prepared = new Once((signal: AbortSignal) => this.#prepare(signal));
  /** Once per backend, before the first start: take over what a crashed predecessor left. */
  readonly #adoption = new Once((signal: AbortSignal) => this.#adopt(signal));
  /** The proxy and CA the runners get (`runner-env`), delivered with the JIT config. */
  readonly #runnerNetwork: RunnerNetwork | undefined;
  #pool: WarmPool | undefined;
  #releasePrune: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(ctx: BackendContext, opts: TartBackendOptions) {
    const t = opts.tart;
    checkOptions(opts);
    this.#owner = ctx.owner;
    this.#runnerNetwork = ctx.runnerNetwork;
    this.#tart = t;
    this.#logger = ctx.logger.child({ backend: 'tart' });
    this.#background = new TaskTracker((err) => this.#logger.error({ err }, 'tart background task failed'));
    this.#env = {
      cli: new TartCli(opts.tartBin ?? 'tart', tartHome(t.home)),
      journal: new Journal(journalPath(ctx.stateDir, ctx.owner)),
      host: tartHost,
      logger: this.#logger,
      image: opts.image,
      tart: t,
      instanceId: ctx.owner.instanceId,
      logDir: join(ctx.stateDir, 'tart-logs'),
      track: (p) => void this.#background.track(p),
    };
    this.#runners = new RunnerTable(this.#env, this.#events, this.#logger);
    this.#unregister = tartHost.register({ maxVms: t.maxVms, cpu: t.hostCpu, memory: t.hostMemory });
    this.capabilities = { maxRunners: t.maxVms };
    if (t.poolSize > t.maxVms) {
      this.#logger.warn(
        { poolSize: t.poolSize, maxVms: t.maxVms },
        '[tart] pool-size exceeds max-vms; the pool can never fill',
      );
    }
  }

  prepare(signal: AbortSignal): Promise<void> {
    return this.#prepared.run(anySignal(signal, this.#closing.signal));
  }

  async #prepare(signal: AbortSignal): Promise<void> {
    await ensureImage(this.#env.cli, this.#env.image, this.#tart.pullPolicy, this.#logger, signal);
    await this.#adoption.run(signal);
    signal.throwIfAborted();
    this.#releasePrune ??= schedulePrune(this.#env.cli, this.#tart, this.#logger);
    if (this.#tart.poolSize > 0 && !this.#pool) {
      this.#pool = new WarmPool(this.#env, this.#owner, this.#tart.poolSize);
      this.#pool.start();
    }
  }

  async #adopt(signal: AbortSignal): Promise<void> {
    await mkdir(this.#env.logDir, { recursive: true });
    for (const r of await adoptVms(this.#env, this.#owner, signal)) this.#runners.adopt(r);
  }

  async start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    if (this.#closing.signal.aborted) throw new Error('Tart backend is closed');
    const sig = anySignal(signal, this.#closing.signal);
    await this.#adoption.run(sig);
    sig.throwIfAborted();
    if (this.#runners.has(spec.name)) throw new Error(`runner ${spec.name} is already starting or running`);
    const warm = this.#pool?.take();
    const vm = warm?.name ?? runnerVmName(this.#owner, spec.name);
    const entry = this.#runners.begin(spec, vm, sig);
    let booted: BootedVm | undefined = warm;
    try {
      if (booted) {
        await this.#env.journal.patch(vm, { kind: 'runner', runner: spec.name, runnerId: spec.runnerId });
      } else {
        booted = await this.#coldBoot(spec, vm, entry.signal);
      }
      await startRunner(
        this.#env.cli,
        vm,
        this.#tart.runnerDir,
        spec.jitConfig,
        this.#runnerNetwork,
        entry.signal,
      );
      await this.#env.journal.patch(vm, { phase: 'started' });
      entry.signal.throwIfAborted();
      this.#runners.started(entry, booted.run);
      return { name: spec.name, resourceId: vm, tier: warm ? 'warm' : 'cold' };
    } catch (err) {
      this.#runners.forget(entry);
      // bootVm deletes its own VM on failure; a VM that booted (or came warm) is ours to delete.
      if (booted) {
        await destroyVm(this.#env, vm).catch((e: unknown) =>
          this.#logger.error({ err: e, vm }, 'could not delete VM'),
        );
      }
      throw err;
    } finally {
      entry.settle();
    }
  }

  async #coldBoot(spec: RunnerSpec, vm: string, signal: AbortSignal): Promise<BootedVm> {
    // `tart clone` replaces an existing VM of the same name: never clone over one we already have.
    if ((await this.#env.journal.read())[vm])
      throw new Error(`VM ${vm} already exists for runner ${spec.name}`);
    const size = vmSize(this.#tart);
    const slot = tartHost.acquire(vm, size);
    if (slot === undefined) {
      // One Mac, shared by every Tart scale set (job shapes of several sizes): a budget they share.
      throw new BackendCapacityError(`the Mac's VM budget is full: ${tartHost.fullFor(size)}; retry later`, {
        limit: 'budget',
      });
    }
    const record = { kind: 'runner' as const, runner: spec.name, runnerId: spec.runnerId };
    try {
      return await bootVm(this.#env, vm, slot, record, signal);
    } catch (err) {
      // max-vms set above what macOS allows: the kernel's answer is a capacity limit, retried later.
      if (err instanceof TartError && /exceeds the system limit/.test(err.message)) {
        throw new BackendCapacityError(`macOS refused another VM: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  remove(runnerName: string, signal: AbortSignal): Promise<void> {
    return this.#runners.remove(runnerName, signal);
  }

  listOwned(signal: AbortSignal): Promise<OwnedRunner[]> {
    return listOwnedVms(this.#env, this.#owner, signal);
  }

  events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    return this.#events.subscribe(signal);
  }

  silence(): Silence | undefined {
    return this.#env.cli.answers.silence();
  }

  /** The Mac: one budget (VMs, CPUs, memory) for every Tart scale set of the process. */
  budgets(): string[] {
    return ['tart:mac'];
  }

  /** A warm VM of this set takes the next runner; otherwise room on the Mac for one of this size. */
  hasRoom(): boolean {
    if ((this.#pool?.status().warm ?? 0) > 0) return true;
    return tartHost.fullFor(vmSize(this.#tart)) === undefined;
  }

  poolStatus(): Record<string, number> {
    if (this.#tart.poolSize === 0) return {};
    return this.#pool?.status() ?? { warm: 0, booting: 0 };
  }

  /** Every VM with a record of this owner, adopted ones and leftovers included. */
  async #removeAll(signal: AbortSignal | undefined): Promise<void> {
    const records = await this.#env.journal.read();
    await Promise.allSettled(
      Object.keys(records).map((vm) =>
        destroyVm(this.#env, vm, signal).catch((err: unknown) =>
          this.#logger.error({ err, vm }, 'could not delete VM on close'),
        ),
      ),
    );
  }

  close(opts: { removeAll?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort(new Error('Tart backend closed'));
      this.#releasePrune?.();
      // Aborted boots delete their own clones; waiting for them is bounded by destroyVm's timeout.
      await Promise.allSettled([this.#pool?.close(), this.#runners.settled()]);
      this.#runners.stopWatching();
      // Exit records written before the journal is handed over (or deleted with the VMs).
      await this.#background.settle(opts.signal);
      try {
        if (opts.removeAll) await this.#removeAll(opts.signal);
        await this.#runners.detach();
      } finally {
        this.#events.close();
        this.#unregister();
      }
    })();
    return this.#closed;
  }
}
