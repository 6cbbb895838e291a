import type { StartTier } from '../types.js';
import { Slot } from './slot.js';
import type { MachineRecord, MachineStateFile } from './state.js';

/** Phases a start must not claim: broken, or on its way out (gone machines are forgotten soon). */
const UNUSABLE: ReadonlySet<Slot['phase']> = new Set(['failed', 'destroying', 'destroyed']);

export interface PoolCounts {
  /**
   * Idle machines awake (or waking), ready for a 'warm' start; those the sleep hold window keeps
   * awake are counted here too.
   */
  warm: number;
  /** Idle machines asleep, caches kept. */
  sleeping: number;
  /** Machines hosting a runner or being prepared for one. */
  busy: number;
  creating: number;
  /** Releasing or deleting. */
  draining: number;
  total: number;
}

/** Our machines in memory, mirrored to the state file. The only source of "which machines are ours". */
export class Fleet {
  readonly slots = new Map<string, Slot>();
  /** Starts that will create a machine: counted against `max` before the machine exists. */
  reservedCreates = 0;

  constructor(readonly state: MachineStateFile) {}

  add(rec: MachineRecord, use: Slot['use']): Slot {
    const slot = new Slot(rec, 'unknown', use);
    this.slots.set(rec.machineId, slot);
    return slot;
  }

  save(slot: Slot): Promise<void> {
    return this.state.put(slot.rec);
  }

  async drop(slot: Slot): Promise<void> {
    this.slots.delete(slot.id);
    await this.state.delete(slot.id);
  }

  /** Every machine that exists or is about to: `max` bounds this. */
  total(): number {
    return this.slots.size + this.reservedCreates;
  }

  /**
   * Machines awake or on their way there (being created, claimed for a start, waking, hosting), what an
   * account quota of vCPUs and memory counts (quota.ts). Every change to this count happens in the same
   * turn as the decision that makes it, so two checks never both see the last room.
   */
  awakeCount(): number {
    let n = this.reservedCreates;
    for (const s of this.slots.values())
      if (s.use === 'creating' || s.use === 'claimed' || s.use === 'hosting' || s.awake) n++;
    return n;
  }

  byRunner(name: string): Slot | undefined {
    for (const s of this.slots.values()) if (s.rec.currentRunner?.name === name) return s;
    return undefined;
  }

  /**
   * The idle machine a start should take: awake first ('warm'), then one a pool wake is already
   * bringing up, then a sleeping one, then one the pool is putting to sleep. Fewest jobs first within
   * a rank, which spreads wear and keeps recycling rare.
   */
  pickIdle(): { slot: Slot; tier: StartTier } | undefined {
    const idle = [...this.slots.values()].filter(
      (s) => s.use === 'idle' && s.rec.provisioned && !UNUSABLE.has(s.phase),
    );
    const rank = (s: Slot) =>
      s.op === undefined && s.awake ? 0 : s.op === 'waking' ? 1 : s.op === undefined ? 2 : 3;
    idle.sort((a, b) => rank(a) - rank(b) || b.rec.jobs - a.rec.jobs);
    const slot = idle[0];
    if (!slot) return undefined;
    return { slot, tier: rank(slot) === 0 && slot.phase === 'running' ? 'warm' : 'woken' };
  }

  counts(): PoolCounts {
    const c: PoolCounts = {
      warm: 0,
      sleeping: 0,
      busy: 0,
      creating: this.reservedCreates,
      draining: 0,
      total: 0,
    };
    for (const s of this.slots.values()) {
      if (s.use === 'idle') {
        if (s.awake) c.warm++;
        else c.sleeping++;
      } else if (s.use === 'claimed' || s.use === 'hosting') c.busy++;
      else if (s.use === 'creating') c.creating++;
      else c.draining++;
    }
    c.total = this.total();
    return c;
  }
}
