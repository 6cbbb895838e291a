import type { MachinePhase } from './api/schemas.js';
import type { DedalusContext } from './context.js';
import { reportFigures } from './figures-report.js';
import type { Provisioner } from './provision.js';
import { scrubExecution } from './scripts.js';
import type { EndedJob, Sleeper } from './sleeper.js';
import type { Slot } from './slot.js';

/**
 * Takes runners off machines. Whatever the path (the runner exited, remove(), a failed start,
 * close()), the order is the same: cancel the execution, scrub (which also kills what the runner left
 * running, since DELETE may not), then sleep at once (we pay for awake seconds only), or delete when
 * the machine is due for recycling, failed, or reuse = false. A sleep the platform refuses for its
 * hold window leaves the machine warm in the pool (sleeper.ts).
 */
export class Releaser {
  constructor(
    private readonly c: DedalusContext,
    private readonly provisioner: Provisioner,
    private readonly sleeper: Sleeper,
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
      if (phase === 'destroyed') {
        this.c.log.warn({ machineId: s.id, why }, 'the machine no longer exists at Dedalus; forgetting it');
        this.#report(s);
        await fleet.drop(s);
        return;
      }
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
        this.#report(s);
        await this.provisioner.discard(s, recycle);
        return;
      }
      await fleet.save(s);
      // Back in the pool before the sleep is answered: a start may claim it now (its steps wait for
      // this lock, then wake it if it slept), so a hot-cache machine is never passed over for a cold one.
      s.use = 'idle';
      const job = this.#endedJob(s);
      const outcome = await this.sleeper.sleep(s, AbortSignal.timeout(timing.sleepTimeoutMs), job);
      this.c.log.debug({ machineId: s.id, why, outcome }, 'machine back in the pool');
    });
  }

  /** The machine's state, or 'destroyed' when it is gone (404 or reported destroyed). */
  async #phase(s: Slot): Promise<MachinePhase> {
    try {
      const m = await this.c.ops.read(s.id, AbortSignal.timeout(this.c.timing.requestTimeoutMs));
      s.phase = m ? m.status.phase : 'destroyed';
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
    if (s.misfit) return s.misfit;
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

  /** The figures of the job that just ended on `s`, taken off the machine. */
  #endedJob(s: Slot): EndedJob | undefined {
    const f = s.figures;
    s.figures = undefined;
    if (!f) return undefined;
    const now = this.c.clock.now();
    f.endedAt = new Date(now).toISOString();
    return { figures: f, awakeFrom: s.awakeSince ?? Date.parse(f.claimedAt) };
  }

  /** The machine leaves the pool (deleted, gone): the job's figures end now. */
  #report(s: Slot): void {
    const job = this.#endedJob(s);
    if (job) reportFigures(this.c, job.figures, job.awakeFrom, this.c.clock.now());
    s.awakeSince = undefined;
  }
}
