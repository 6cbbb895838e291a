import type { MachinePhase } from './api/schemas.js';
import type { DedalusContext } from './context.js';
import { estimateCost, usageCost } from './figures.js';
import type { Provisioner } from './provision.js';
import { scrubExecution } from './scripts.js';
import type { Slot } from './slot.js';

/**
 * Takes runners off machines. Whatever the path (the runner exited, remove(), a failed start,
 * close()), the order is the same: cancel the execution, scrub (which also kills what the runner left
 * running, since DELETE may not), then sleep at once (we pay for awake seconds only), or delete when
 * the machine is due for recycling, failed, or reuse = false.
 */
export class Releaser {
  constructor(
    private readonly c: DedalusContext,
    private readonly provisioner: Provisioner,
  ) {}

  /**
   * The runner is over (its execution ended, or close() ends it with `cancel`): it is recorded as
   * exited, reported by events(), and its machine released.
   */
  end(s: Slot, info: { exitCode: number | undefined; reason: string; cancel: boolean }): Promise<void> {
    if (s.releasing || s.use !== 'hosting') return s.releasing ?? Promise.resolve();
    const r = s.rec.currentRunner;
    if (!r) return this.release(s, info.reason, info.cancel);
    return this.#begin(s, async () => {
      const at = new Date();
      this.c.counters.runnersExited++;
      await this.c.fleet.state.addExited({
        ...r,
        machineId: s.id,
        exitedAt: at.toISOString(),
        exitCode: info.exitCode,
        reason: info.reason,
      });
      this.c.events.emit({
        type: 'exited',
        name: r.name,
        resourceId: s.id,
        exitCode: info.exitCode,
        reason: info.reason,
        at,
      });
      this.c.log.info(
        { runner: r.name, machineId: s.id, exitCode: info.exitCode, reason: info.reason },
        'runner exited',
      );
      if (s.figures) Object.assign(s.figures, { exitCode: info.exitCode, reason: info.reason });
      await this.#release(s, info.reason, info.cancel);
    });
  }

  /** Takes the machine back without recording an exit (remove(), a failed start). */
  release(s: Slot, why: string, cancel = true): Promise<void> {
    if (s.releasing) return s.releasing;
    return this.#begin(s, () => this.#release(s, why, cancel));
  }

  /** A start failed after it claimed `s`: leave no runner record and no awake machine behind. */
  async abandon(s: Slot): Promise<void> {
    if (s.use === 'deleting' || !this.c.fleet.slots.has(s.id)) return;
    await this.release(s, 'start failed');
  }

  #begin(s: Slot, fn: () => Promise<void>): Promise<void> {
    s.use = 'releasing';
    s.watch?.abort();
    const p = fn().finally(() => {
      s.releasing = undefined;
      this.c.kick();
    });
    s.releasing = p;
    return p;
  }

  async #release(s: Slot, why: string, cancel: boolean): Promise<void> {
    const { ops, timing, cfg, fleet } = this.c;
    await s.lock(async () => {
      const eid = s.rec.executionId;
      if (eid && cancel) {
        await ops.quietly(
          'cancelling the runner execution',
          (sig) => ops.cancel(s.id, eid, sig),
          timing.scrubTimeoutMs,
        );
      }
      const phase = await this.#phase(s);
      if (phase === 'running') {
        await ops.quietly(
          `scrubbing machine ${s.id}`,
          (sig) =>
            ops.run(s.id, scrubExecution(cfg.runnerDir, timing.scrubTimeoutMs), 'workspace scrub', sig),
          timing.scrubTimeoutMs + 30_000,
        );
      }
      s.rec.currentRunner = undefined;
      s.rec.executionId = undefined;
      const recycle = this.#recycleReason(s, phase);
      if (recycle) {
        this.#figures(s);
        await this.provisioner.discard(s, recycle);
        return;
      }
      await fleet.save(s);
      // Back in the pool before the sleep finishes: a start may claim it now (its steps wait for this
      // lock, then wake it), so a hot-cache machine is never passed over for a cold one meanwhile.
      s.use = 'idle';
      const slept = await ops.quietly(
        `sleeping machine ${s.id}`,
        (sig) => ops.sleep(s.id, sig),
        timing.sleepTimeoutMs,
      );
      if (slept) {
        s.phase = 'sleeping';
        this.c.counters.slept++;
      }
      this.#figures(s);
      s.awakeSince = undefined;
      this.c.log.debug({ machineId: s.id, why, asleep: slept }, 'machine back in the pool');
    });
  }

  async #phase(s: Slot): Promise<MachinePhase> {
    try {
      const m = await this.c.client.machines.retrieve(
        s.id,
        AbortSignal.timeout(this.c.timing.requestTimeoutMs),
      );
      s.phase = m.status.phase;
    } catch (err) {
      this.c.log.warn({ err, machineId: s.id }, 'cannot read the machine state');
    }
    return s.phase;
  }

  #recycleReason(s: Slot, phase: MachinePhase): string | undefined {
    const { cfg } = this.c;
    if (phase === 'failed') {
      this.c.counters.replaced++;
      return 'machine failed';
    }
    if (!cfg.reuse) return 'reuse = false';
    if (cfg.recycleAfterJobs > 0 && s.rec.jobs >= cfg.recycleAfterJobs) {
      this.c.counters.recycled++;
      return `recycle after ${cfg.recycleAfterJobs} jobs`;
    }
    const age = this.c.now().getTime() - Date.parse(s.rec.createdAt);
    if (cfg.recycleAfter > 0 && age >= cfg.recycleAfter) {
      this.c.counters.recycled++;
      return 'recycle after age';
    }
    return undefined;
  }

  /** Completes the job's figures (awake until now), logs them, and asks the usage API in the background. */
  #figures(s: Slot): void {
    const f = s.figures;
    s.figures = undefined;
    if (!f) return;
    const ended = Date.now();
    f.endedAt = new Date(ended).toISOString();
    const awakeFrom = s.awakeSince ?? Date.parse(f.claimedAt);
    f.awakeSeconds = Math.max(0, Math.round((ended - awakeFrom) / 100) / 10);
    f.estimatedCostUsd = estimateCost(f.awakeSeconds, this.c.cfg.vcpu, this.c.cfg.memoryMib);
    this.c.figures.add(f);
    this.c.log.info({ ...f }, 'dedalus job figures');
    const since = Date.parse(f.claimedAt);
    const usage = this.c.client.usage
      .compute(
        { machineId: f.machineId, periodStart: f.claimedAt.slice(0, 10), granularity: 'hour' },
        AbortSignal.any([AbortSignal.timeout(10_000), this.c.closing]),
      )
      .then((rows) => {
        const touched = rows.filter((r) => !r.bucket_end || Date.parse(r.bucket_end) > since);
        f.usage = usageCost(touched);
        this.c.log.debug({ runner: f.runner, usage: f.usage }, 'dedalus usage for the job');
      })
      .catch((err: unknown) => this.c.log.debug({ err }, 'usage API unavailable; keeping the estimate'));
    this.c.track(usage);
  }
}
