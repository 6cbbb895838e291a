import { randomUUID } from 'node:crypto';
import { isAbortError } from '../../src/kernel/abort.js';
import { BackendCapacityError } from '../types.js';
import { DedalusHttpError } from './api/errors.js';
import type { CreateMachineBody } from './api/schemas.js';
import type { DedalusContext } from './context.js';
import { DedalusBackendError } from './errors.js';
import { autosleepFor } from './options.js';
import { provisionExecution } from './scripts.js';
import type { Sleeper } from './sleeper.js';
import type { Slot } from './slot.js';

/** Pending creates older than this are not replayed: the server has surely forgotten the key. */
const REPLAY_WINDOW_MS = 24 * 3_600_000;

/**
 * Makes new pool members: create (the request recorded first, so a crash mid-create is recoverable
 * by replaying its Idempotency-Key), wait until running, run the provision script once, mark the
 * record provisioned. A machine that fails any step is deleted: half-provisioned is never trusted.
 */
export class Provisioner {
  /** Keys of creates this process is sending now: never replayed underneath them. */
  readonly #sending = new Set<string>();

  constructor(
    private readonly c: DedalusContext,
    private readonly sleeper: Sleeper,
  ) {}

  /**
   * The machine counts against `max` from the moment this is called (its synchronous start reserves
   * it), not from when the API answers, so concurrent callers can never overshoot.
   */
  async create(
    use: 'claimed' | 'creating',
    signal: AbortSignal,
    intent?: { claimed: boolean },
  ): Promise<Slot> {
    const { fleet } = this.c;
    fleet.reservedCreates++;
    let reserved = true;
    const unreserve = () => {
      if (reserved) fleet.reservedCreates--;
      reserved = false;
    };
    try {
      return await this.#create(use, signal, unreserve, intent);
    } finally {
      unreserve();
    }
  }

  async #create(
    use: 'claimed' | 'creating',
    signal: AbortSignal,
    unreserve: () => void,
    intent: { claimed: boolean } | undefined,
  ): Promise<Slot> {
    const { cfg, fleet, client, counters } = this.c;
    const body: CreateMachineBody = {
      vcpu: cfg.vcpu,
      memory_mib: cfg.memoryMib,
      storage_gib: cfg.storageGib,
      autosleep: autosleepFor(cfg, this.c.timing),
    };
    const key = randomUUID();
    let machineId: string;
    let phase: Slot['phase'];
    // Marked as ours before it is written down, so a pool round never replays it underneath us.
    this.#sending.add(key);
    try {
      await fleet.state.addPending({ idempotencyKey: key, body, at: this.c.now().toISOString() });
      const m = await client.machines.create(body, signal, key);
      machineId = m.machine_id;
      phase = m.status.phase;
    } catch (err) {
      // Only a refusal proves no machine was made; after a timeout or a 5xx it may exist, so the
      // pending record stays and pool maintenance replays the key to find out.
      if (refused(err)) await fleet.state.removePending(key);
      if (err instanceof DedalusHttpError && /QUOTA|LIMIT_EXCEEDED/i.test(err.errorCode ?? '')) {
        throw new BackendCapacityError(`Dedalus plan quota reached: ${err.message}`);
      }
      throw err;
    } finally {
      this.#sending.delete(key);
    }
    const slot = fleet.add(
      {
        machineId,
        owner: { ...this.c.owner },
        provisioned: false,
        jobs: 0,
        createdAt: this.c.now().toISOString(),
      },
      use,
    );
    unreserve();
    slot.phase = phase;
    await fleet.save(slot);
    await fleet.state.removePending(key);
    counters.created++;
    const log = this.c.log.child({ machineId });
    log.info('dedalus machine created; provisioning');
    try {
      await this.c.ops.waitPhase(machineId, ['running'], this.c.timing.createTimeoutMs, signal);
      slot.phase = 'running';
      slot.awakeSince = this.c.clock.now();
      const script = await this.c.provisionScript();
      const started = Date.now();
      await this.c.ops.run(
        machineId,
        provisionExecution(cfg.runnerDir, script, this.c.timing.provisionTimeoutMs),
        'provision script',
        signal,
      );
      slot.rec.provisioned = true;
      await fleet.save(slot);
      counters.provisioned++;
      log.info({ provisionMs: Date.now() - started }, 'dedalus machine provisioned');
      // A pool machine a start took over while it was being made goes straight to that start.
      if (use === 'creating') slot.use = intent?.claimed ? 'claimed' : 'idle';
      return slot;
    } catch (err) {
      counters.provisionFailures++;
      await this.discard(slot, 'provisioning failed');
      if (signal.aborted || isAbortError(err)) throw err;
      throw new DedalusBackendError(
        'DEDALUS_PROVISION_FAILED',
        `provisioning machine ${machineId} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  /** Deletes one of our machines and forgets it; on failure the record stays, marked, for the next try. */
  discard(slot: Slot, reason: string): Promise<void> {
    slot.deleting ??= (async () => {
      this.sleeper.endHold(slot, 'deleted');
      slot.use = 'deleting';
      slot.rec.deleting = true;
      slot.watch?.abort();
      await this.c.fleet.save(slot);
      const ok = await this.c.ops.quietly(
        `deleting machine ${slot.id} (${reason})`,
        (s) => this.c.ops.destroy(slot.id, s),
        this.c.timing.deleteTimeoutMs,
      );
      if (ok) {
        this.c.counters.deleted++;
        await this.c.fleet.drop(slot);
        this.c.log.info({ machineId: slot.id, reason }, 'dedalus machine deleted');
      } else slot.deleting = undefined;
      this.c.kick();
    })();
    return slot.deleting;
  }

  /**
   * Creates sent but never seen answered (a crash, a timeout, a 5xx): the same key and body return
   * the machine the first request made, if any, which is then deleted like any half-made machine.
   * A replay that fails again is kept for the next round; nothing here blocks adoption.
   */
  async replayPending(signal: AbortSignal): Promise<void> {
    const { fleet, client } = this.c;
    for (const p of [...fleet.state.pendingCreates()]) {
      if (this.#sending.has(p.idempotencyKey)) continue;
      if (this.c.now().getTime() - Date.parse(p.at) < REPLAY_WINDOW_MS) {
        let machineId: string;
        try {
          machineId = (await client.machines.create(p.body, signal, p.idempotencyKey)).machine_id;
        } catch (err) {
          if (signal.aborted) throw err;
          if (!refused(err)) {
            this.c.log.warn({ err }, 'replaying an unanswered machine create failed; trying again later');
            continue;
          }
          await fleet.state.removePending(p.idempotencyKey);
          continue;
        }
        if (!fleet.slots.has(machineId)) {
          const slot = fleet.add(
            { machineId, owner: { ...this.c.owner }, provisioned: false, jobs: 0, createdAt: p.at },
            'creating',
          );
          await fleet.save(slot);
          this.c.track(this.discard(slot, 'create that was never answered'));
        }
      }
      await fleet.state.removePending(p.idempotencyKey);
    }
  }
}

/** The API turned the request down (4xx other than a timeout): nothing was created. */
function refused(err: unknown): boolean {
  return err instanceof DedalusHttpError && err.status >= 400 && err.status < 500 && err.status !== 408;
}
