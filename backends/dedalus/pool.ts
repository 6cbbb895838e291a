import { isAbortError } from '../../src/kernel/abort.js';
import { every } from '../../src/util/every.js';
import type { DedalusContext } from './context.js';
import { isGone } from './machine-ops.js';
import { planPool } from './pool-plan.js';
import type { Provisioner } from './provision.js';
import type { TierSchedule } from './schedule.js';
import type { Sleeper } from './sleeper.js';
import type { Slot } from './slot.js';

/**
 * The pool maintenance loop: every interval (and on a kick after each claim and release) it reads
 * the phases of our machines, plans one step towards the tiers (pool-plan.ts) and carries it out in
 * the background. Only machines in the state file are read into the plan or acted on.
 */
export class PoolKeeper {
  #loop: { kick: () => void; done: Promise<void> } | undefined;
  readonly #creations = new Set<{ intent: { claimed: boolean }; slot: Promise<Slot> }>();
  /** The last quota check found no room (so the note is logged once per full spell). */
  #quotaFull = false;

  constructor(
    private readonly c: DedalusContext,
    private readonly provisioner: Provisioner,
    private readonly sleeper: Sleeper,
    private readonly schedule: TierSchedule,
    private readonly startsInFlight: () => number,
  ) {}

  start(): void {
    this.#loop ??= every(this.c.timing.maintenanceIntervalMs, () => this.converge(), {
      signal: this.c.closing,
      onError: (err) => {
        // A round cut short by close() is not a failure worth a warning.
        if (this.c.closing.aborted || isAbortError(err)) return;
        this.c.log.warn({ err }, 'dedalus pool maintenance failed; retrying next round');
      },
    });
  }

  kick(): void {
    this.#loop?.kick();
  }

  /** Hands a pool machine still being made to a start (better than creating one more). */
  takeCreation(): Promise<Slot> | undefined {
    for (const c of this.#creations) {
      if (c.intent.claimed) continue;
      c.intent.claimed = true;
      return c.slot;
    }
    return undefined;
  }

  async stopped(): Promise<void> {
    await this.#loop?.done;
  }

  async converge(): Promise<void> {
    const { fleet, cfg } = this.c;
    await this.provisioner.replayPending(this.c.closing);
    await this.#refresh();
    if (this.c.closing.aborted) return;
    const slots = [...fleet.slots.values()];
    for (const s of slots)
      if (s.use === 'deleting' && !s.deleting) this.c.track(this.provisioner.discard(s, 'retrying delete'));
    // Machines with a pool step under way are planned with where they are heading; the steps below skip them.
    const idle = slots.filter((s) => s.use === 'idle' && s.rec.provisioned);
    const counts = fleet.counts();
    const plan = planPool({
      idle: idle.map((s) => ({
        id: s.id,
        awake: s.awake,
        jobs: s.rec.jobs,
        createdAt: Date.parse(s.rec.createdAt),
        failed: s.phase === 'failed',
        held: this.sleeper.held(s),
      })),
      busy: counts.busy,
      creating: counts.creating,
      draining: counts.draining,
      startsInFlight: this.startsInFlight(),
      targets: this.schedule.at(this.c.now()),
      max: cfg.max,
      recycleAfterJobs: cfg.recycleAfterJobs,
      recycleAfter: cfg.recycleAfter,
      now: this.c.now().getTime(),
    });
    for (const d of plan.delete) {
      const s = fleet.slots.get(d.id);
      if (!s || s.op !== undefined) continue;
      if (d.reason === 'machine failed') this.c.counters.replaced++;
      else if (d.reason.startsWith('recycle')) this.c.counters.recycled++;
      this.c.track(this.provisioner.discard(s, d.reason));
    }
    for (const id of plan.sleep) this.#step(fleet.slots.get(id), 'sleeping');
    // Eligible to sleep again, but the warm tier wants it awake: from here on it is an ordinary warm
    // machine, and the hold window's cost to the job that left it ends.
    for (const s of idle) {
      const until = s.hold?.until;
      if (until !== undefined && this.sleeper.due(s) && s.op === undefined && !plan.sleep.includes(s.id))
        this.sleeper.endHold(s, 'kept warm', until);
    }
    // Warm tiers draw on the account's quota like jobs do: a wake or create that does not fit waits
    // for a later round (each step counts at once, so the checks see the ones before them).
    for (const id of plan.wake) if (this.#fits()) this.#step(fleet.slots.get(id), 'waking');
    for (let i = 0; i < plan.create && this.#fits(); i++) {
      const intent = { claimed: false };
      const entry = { intent, slot: this.provisioner.create('creating', this.c.closing, intent) };
      this.#creations.add(entry);
      const done = entry.slot
        .catch((err: unknown) => {
          if (!this.c.closing.aborted && !entry.intent.claimed)
            this.c.log.warn({ err }, 'creating a pool machine failed');
        })
        .finally(() => {
          this.#creations.delete(entry);
          this.kick();
        });
      this.c.track(done);
    }
  }

  /** True when the account's quota has room for one more awake machine; says once per full spell why not. */
  #fits(): boolean {
    const why = this.c.quota.full();
    if (why !== undefined && !this.#quotaFull)
      this.c.log.info({ why }, 'pool waits for room in the Dedalus quota');
    this.#quotaFull = why !== undefined;
    return why === undefined;
  }

  /**
   * A pool wake or sleep, under the machine's lock; a claim that got there first wins (the step finds
   * the machine no longer idle and leaves it alone). A refused sleep leaves it held (sleeper.ts).
   */
  #step(s: Slot | undefined, op: 'waking' | 'sleeping'): void {
    if (!s || s.op !== undefined) return;
    s.op = op;
    const { ops, timing, counters } = this.c;
    const task = s
      .lock(async () => {
        if (s.use !== 'idle') return;
        const signal = AbortSignal.timeout(op === 'waking' ? timing.wakeTimeoutMs : timing.sleepTimeoutMs);
        if (op === 'waking') {
          await ops.wake(s.id, signal);
          s.phase = 'running';
          s.awakeSince = this.c.clock.now();
          counters.woken++;
        } else {
          await this.sleeper.sleep(s, signal);
        }
      })
      .catch((err: unknown) =>
        this.c.log.warn({ err, machineId: s.id }, `pool ${op === 'waking' ? 'wake' : 'sleep'} failed`),
      )
      .finally(() => {
        s.op = undefined;
        this.kick();
      });
    this.c.track(task);
  }

  /**
   * Phases of our machines from the account list (read-only). One that vanished (absent and 404, or
   * reported destroyed) is forgotten; a held one something else put to sleep is no longer held.
   */
  async #refresh(): Promise<void> {
    const { fleet, client, ops } = this.c;
    const seen = new Map<string, Slot['phase']>();
    for await (const m of client.machines.listAll(this.c.closing)) {
      if (fleet.slots.has(m.machine_id)) seen.set(m.machine_id, isGone(m) ? 'destroyed' : m.status.phase);
    }
    for (const s of [...fleet.slots.values()]) {
      let phase = seen.get(s.id);
      if (phase === undefined && s.use === 'idle')
        phase = (await ops.read(s.id, this.c.closing))?.status.phase;
      if (phase === undefined || phase === 'destroyed') {
        if (s.use !== 'idle' || s.op !== undefined) {
          // Hosting, releasing or stepping: whoever holds it finds out and forgets it.
          if (phase === 'destroyed') s.phase = phase;
          continue;
        }
        this.c.log.warn({ machineId: s.id }, 'a pool machine no longer exists at Dedalus; forgetting it');
        this.sleeper.endHold(s, 'gone');
        await fleet.drop(s);
        continue;
      }
      if (s.op === undefined && s.use === 'idle') {
        s.phase = phase;
        if (s.hold && !s.awake) this.sleeper.endHold(s, 'asleep');
      } else if (phase === 'failed') s.phase = phase;
    }
  }
}
