/** Slots give MAC addresses one byte (1..254), which also bounds max-vms. */
export const MAX_SLOTS = 254;

/** A VM's size as the Mac's budget counts it; 0 in a dimension: the image's own setting (not counted). */
export interface VmSize {
  cpu: number;
  /** MiB. */
  memory: number;
}

/** What a backend declares of the Mac: max-vms, and the CPUs and memory (MiB) VMs may use; 0: no cap. */
export interface HostBudget {
  maxVms: number;
  cpu: number;
  memory: number;
}

const UNSIZED: VmSize = { cpu: 0, memory: 0 };

/** The size a VM of this config gets (`tart set` before boot), as the Mac's budget counts it. */
export function vmSize(t: { cpu: number; memory: number }): VmSize {
  return { cpu: t.cpu, memory: t.memory };
}

/**
 * Process-wide accounting of the VMs running on this Mac. Apple's kernel limit (two macOS VMs) is per
 * host, not per TART_HOME or scale set, and so are its CPUs and memory: every Tart backend of the
 * process (job shapes of several sizes among them) draws from this one registry. Each VM holds a slot
 * and its size while it exists; the slot numbers its deterministic MAC address, so two VMs of the
 * process never share one.
 *
 * Each cap is the smallest any registered backend declares: the strictest setting wins, since
 * exceeding the real limit only makes `tart run` fail later (or the Mac swap).
 */
export class TartHost {
  readonly #budgets = new Map<symbol, HostBudget>();
  readonly #slots = new Map<number, { vm: string; size: VmSize }>();
  readonly #listeners = new Set<() => void>();

  /** Declares a backend's max-vms and Mac budget; returns the unregister function. */
  register(budget: number | HostBudget): () => void {
    const key = Symbol('tart-backend');
    const b = typeof budget === 'number' ? { maxVms: budget, cpu: 0, memory: 0 } : budget;
    this.#budgets.set(key, { ...b, maxVms: Math.min(b.maxVms, MAX_SLOTS) });
    return () => {
      if (this.#budgets.delete(key)) this.#notify();
    };
  }

  get cap(): number {
    return this.#smallest('maxVms') || MAX_SLOTS;
  }

  /** The CPUs VMs may use together; 0: no cap declared. */
  get cpuCap(): number {
    return this.#smallest('cpu');
  }

  /** The memory (MiB) VMs may use together; 0: no cap declared. */
  get memoryCap(): number {
    return this.#smallest('memory');
  }

  get used(): number {
    return this.#slots.size;
  }

  /** CPUs and memory (MiB) the VMs hold now. */
  get usedSize(): VmSize {
    let cpu = 0;
    let memory = 0;
    for (const { size } of this.#slots.values()) {
      cpu += size.cpu;
      memory += size.memory;
    }
    return { cpu, memory };
  }

  slotOf(vm: string): number | undefined {
    for (const [slot, owner] of this.#slots) if (owner.vm === vm) return slot;
    return undefined;
  }

  /** Why a VM of `size` cannot run now (the first full dimension), or undefined when it fits. */
  fullFor(size: VmSize = UNSIZED): string | undefined {
    if (this.#slots.size >= this.cap) return `VMs ${this.#slots.size}/${this.cap} (tart.max-vms)`;
    const used = this.usedSize;
    const { cpuCap, memoryCap } = this;
    if (cpuCap > 0 && used.cpu + size.cpu > cpuCap)
      return `CPUs ${used.cpu}/${cpuCap} in use, ${size.cpu} more asked (tart.host-cpu)`;
    if (memoryCap > 0 && used.memory + size.memory > memoryCap)
      return `memory ${used.memory}/${memoryCap} MiB in use, ${size.memory} more asked (tart.host-memory)`;
    return undefined;
  }

  /** Reserves the lowest free slot for `vm` if the Mac's budget has room for it; idempotent per VM. */
  acquire(vm: string, size: VmSize = UNSIZED): number | undefined {
    const held = this.slotOf(vm);
    if (held !== undefined) return held;
    if (this.fullFor(size) !== undefined) return undefined;
    return this.#take(vm, this.#lowestFree(), size);
  }

  /**
   * Counts a VM found running after a restart. It keeps the slot its MAC encodes when that is free;
   * otherwise any free slot, past the caps if need be: it is running whether we like it or not.
   */
  adopt(vm: string, preferred?: number, size: VmSize = UNSIZED): number {
    const held = this.slotOf(vm);
    if (held !== undefined) return held;
    if (preferred !== undefined && preferred < MAX_SLOTS && !this.#slots.has(preferred)) {
      return this.#take(vm, preferred, size);
    }
    return this.#take(vm, this.#lowestFree(), size);
  }

  release(vm: string): void {
    const slot = this.slotOf(vm);
    if (slot === undefined) return;
    this.#slots.delete(slot);
    this.#notify();
  }

  /** Called (asynchronously) whenever capacity may have become free. */
  onRelease(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #smallest(dim: keyof HostBudget): number {
    let least = 0;
    for (const b of this.#budgets.values()) {
      const v = b[dim];
      if (v > 0 && (least === 0 || v < least)) least = v;
    }
    return least;
  }

  #take(vm: string, slot: number, size: VmSize): number {
    if (slot >= MAX_SLOTS) throw new Error(`no free VM slot left (${MAX_SLOTS} in use)`);
    this.#slots.set(slot, { vm, size });
    return slot;
  }

  #lowestFree(): number {
    let slot = 0;
    while (this.#slots.has(slot)) slot++;
    return slot;
  }

  #notify(): void {
    for (const fn of this.#listeners) queueMicrotask(fn);
  }
}

/** The one registry of this process. */
export const tartHost = new TartHost();
