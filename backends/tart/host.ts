/** Slots give MAC addresses one byte (1..254), which also bounds max-vms. */
export const MAX_SLOTS = 254;

/**
 * Process-wide accounting of the VMs running on this Mac. Apple's kernel limit (two macOS VMs) is per
 * host, not per TART_HOME or scale set, so every Tart backend of the process draws from this one
 * registry. Each VM holds a slot while it exists; the slot numbers its deterministic MAC address, so
 * two VMs of the process never share one.
 *
 * The cap is the smallest `max-vms` among the registered backends: the strictest setting wins, since
 * exceeding the real limit only makes `tart run` fail later.
 */
export class TartHost {
  readonly #caps = new Map<symbol, number>();
  readonly #slots = new Map<number, string>();
  readonly #listeners = new Set<() => void>();

  /** Declares a backend's max-vms; returns the unregister function. */
  register(maxVms: number): () => void {
    const key = Symbol('tart-backend');
    this.#caps.set(key, Math.min(maxVms, MAX_SLOTS));
    return () => {
      if (this.#caps.delete(key)) this.#notify();
    };
  }

  get cap(): number {
    return this.#caps.size === 0 ? MAX_SLOTS : Math.min(...this.#caps.values());
  }

  get used(): number {
    return this.#slots.size;
  }

  slotOf(vm: string): number | undefined {
    for (const [slot, owner] of this.#slots) if (owner === vm) return slot;
    return undefined;
  }

  /** Reserves the lowest free slot for `vm` if the cap allows; idempotent per VM. */
  acquire(vm: string): number | undefined {
    const held = this.slotOf(vm);
    if (held !== undefined) return held;
    if (this.#slots.size >= this.cap) return undefined;
    return this.#take(vm, this.#lowestFree());
  }

  /**
   * Counts a VM found running after a restart. It keeps the slot its MAC encodes when that is free;
   * otherwise any free slot, past the cap if need be: it is running whether we like it or not.
   */
  adopt(vm: string, preferred?: number): number {
    const held = this.slotOf(vm);
    if (held !== undefined) return held;
    if (preferred !== undefined && preferred < MAX_SLOTS && !this.#slots.has(preferred)) {
      return this.#take(vm, preferred);
    }
    return this.#take(vm, this.#lowestFree());
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

  #take(vm: string, slot: number): number {
    if (slot >= MAX_SLOTS) throw new Error(`no free VM slot left (${MAX_SLOTS} in use)`);
    this.#slots.set(slot, vm);
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
