import { anySignal, delay, isAbortError, settleWithin } from '../../src/kernel/abort.js';
import { BackendCapacityError, type RunnerHandle, type RunnerSpec, type StartTier } from '../types.js';
import { isNotFound } from './api/errors.js';
import type { Execution } from './api/schemas.js';
import type { DedalusContext } from './context.js';
import { DedalusBackendError, DedalusExecutionFailedError } from './errors.js';
import { waitExecution } from './exec-wait.js';
import type { JobFigures } from './figures.js';
import type { Provisioner } from './provision.js';
import type { Releaser } from './release.js';
import { RUNNER_MISSING_EXIT, runnerExecution, scrubExecution } from './scripts.js';
import type { Sleeper } from './sleeper.js';
import type { Slot } from './slot.js';

interface Claim {
  slot: Slot | undefined;
  tier: StartTier;
  creating?: Promise<Slot>;
}

const ONLINE: ReadonlySet<Execution['status']> = new Set(['running']);
/** How far past job-timeout we keep trusting the platform to expire the execution itself. */
const WATCH_MARGIN_MS = 60_000;

/**
 * Puts runners on machines: claim (awake → 'warm', asleep → 'woken', none → create → 'cold'), wake,
 * scrub the last job's workspace, start run.sh as an execution, and watch it until it ends.
 */
export class RunnerHost {
  inFlight = 0;

  constructor(
    private readonly c: DedalusContext,
    private readonly provisioner: Provisioner,
    private readonly releaser: Releaser,
    private readonly sleeper: Sleeper,
  ) {}

  /** Tracked, so close() waits for a start it aborted to hand its machine back. */
  start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    const p = this.#start(spec, signal);
    this.c.track(p.catch(() => {}));
    return p;
  }

  async #start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    const sig = anySignal(signal, this.c.closing);
    const claimedAt = this.c.clock.now();
    this.inFlight++;
    let claim: Claim;
    try {
      claim = await this.#claim(sig);
    } catch (err) {
      this.inFlight--;
      throw err;
    }
    let slot = claim.slot;
    let tier = claim.tier;
    const fig: JobFigures = {
      runner: spec.name,
      machineId: slot?.id ?? '',
      tier,
      claimedAt: new Date(claimedAt).toISOString(),
    };
    const log = this.c.log.child({ runner: spec.name });
    const run = async (): Promise<RunnerHandle> => {
      if (!slot) {
        slot = await (claim.creating as Promise<Slot>);
        fig.createMs = this.c.clock.now() - claimedAt;
        fig.machineId = slot.id;
        slot.starting = started;
      }
      const s = slot;
      const exec = await s.lock(() => this.#prepare(s, spec, fig, sig));
      if (fig.wakeMs !== undefined && tier === 'warm') tier = 'woken';
      fig.tier = tier;
      fig.onlineMs = this.c.clock.now() - claimedAt;
      s.use = 'hosting';
      s.figures = fig;
      this.c.counters.runnersStarted++;
      this.watch(s, exec);
      log.info(
        { machineId: s.id, tier, wakeMs: fig.wakeMs, createMs: fig.createMs, onlineMs: fig.onlineMs },
        'runner online on a Dedalus machine',
      );
      return { name: spec.name, resourceId: s.id, tier };
    };
    const started = run();
    if (slot) slot.starting = started;
    try {
      return await started;
    } catch (err) {
      if (slot) await this.releaser.abandon(slot);
      if (!(signal.aborted || isAbortError(err)))
        log.warn({ err, machineId: slot?.id }, 'runner start failed; machine returned');
      throw err;
    } finally {
      this.inFlight--;
      this.c.kick();
    }
  }

  /**
   * Picks the machine synchronously, so two starts never take the same one: an idle one, else (when
   * `max` allows) a new one, whose creation starts here and reserves its place at once. A machine
   * being released is worth a short wait rather than a cold create or a capacity error.
   */
  async #claim(signal: AbortSignal): Promise<Claim> {
    const { fleet, cfg } = this.c;
    for (;;) {
      const picked = fleet.pickIdle();
      if (picked) {
        // Asleep, it needs room in the account's quota to wake; awake, it is counted already.
        if (!picked.slot.awake) this.c.quota.need();
        picked.slot.use = 'claimed';
        // Held awake by a refused sleep, it is now this job's machine: no timer or plan sleeps it.
        this.sleeper.endHold(picked.slot, 'claimed');
        return picked;
      }
      const releasing = [...fleet.slots.values()].flatMap((s) => (s.releasing ? [s.releasing] : []));
      if (releasing.length === 0) break;
      await settleWithin(Promise.race(releasing), signal);
      signal.throwIfAborted();
    }
    const pooled = this.c.takePoolCreation();
    if (pooled) return { slot: undefined, tier: 'cold', creating: pooled };
    if (fleet.total() >= cfg.max) {
      throw new BackendCapacityError(`all ${cfg.max} Dedalus machines are in use (dedalus.max)`);
    }
    this.c.quota.need();
    const creating = this.provisioner.create('claimed', signal);
    creating.catch(() => {});
    return { slot: undefined, tier: 'cold', creating };
  }

  /** Under the machine's lock: awake, scrubbed, runner recorded, execution created and running. */
  async #prepare(s: Slot, spec: RunnerSpec, fig: JobFigures, signal: AbortSignal): Promise<Execution> {
    const { ops, fleet, cfg, timing, client } = this.c;
    const m = await ops.read(s.id, signal);
    if (!m) {
      throw new DedalusBackendError('DEDALUS_MACHINE_FAILED', `machine ${s.id} no longer exists at Dedalus`);
    }
    if (m.status.phase !== 'running') {
      fig.wakeMs = await ops.wake(s.id, signal);
      this.c.counters.woken++;
    }
    s.phase = 'running';
    s.awakeSince ??= this.c.clock.now();
    try {
      await ops.run(s.id, scrubExecution(cfg.runnerDir, timing.scrubTimeoutMs), 'workspace scrub', signal);
    } catch (err) {
      if (err instanceof DedalusExecutionFailedError && err.exitCode === RUNNER_MISSING_EXIT) {
        throw new DedalusBackendError(
          'DEDALUS_RUNNER_MISSING',
          `no executable run.sh in ${cfg.runnerDir} on ${s.id}: the provision script must install the runner there`,
          { cause: err },
        );
      }
      throw err;
    }
    // Recorded before the execution exists: a crash in between is found at adoption and cleaned up.
    s.rec.jobs++;
    s.rec.currentRunner = { name: spec.name, runnerId: spec.runnerId, startedAt: new Date().toISOString() };
    s.rec.executionId = undefined;
    await fleet.save(s);
    const body = runnerExecution(
      cfg.runnerDir,
      spec.jitConfig.reveal(),
      cfg.jobTimeout,
      this.c.runnerNetwork,
    );
    const e = await client.executions.create(s.id, body, signal);
    s.rec.executionId = e.execution_id;
    await fleet.save(s);
    return waitExecution(client, s.id, e, {
      signal,
      deadline: Date.now() + timing.onlineTimeoutMs,
      initialMs: timing.pollInitialMs,
      maxMs: timing.pollMaxMs,
      until: ONLINE,
    });
  }

  /**
   * Follows a runner's execution until it ends, then reports the exit and returns the machine. Polls
   * `retrieve` with backoff up to watchMaxMs; transient API errors are retried, not treated as exits.
   */
  watch(s: Slot, exec: Execution): void {
    const ac = new AbortController();
    s.watch = ac;
    const signal = anySignal(ac.signal, this.c.closing);
    const started = Date.parse(s.rec.currentRunner?.startedAt ?? '') || Date.now();
    const deadline = started + this.c.cfg.jobTimeout + WATCH_MARGIN_MS;
    const task = (async () => {
      let last = exec;
      let reason: string | undefined;
      for (;;) {
        try {
          last = await waitExecution(this.c.client, s.id, last, {
            signal,
            deadline,
            initialMs: this.c.timing.watchInitialMs,
            maxMs: this.c.timing.watchMaxMs,
          });
          break;
        } catch (err) {
          if (signal.aborted) return;
          if (isNotFound(err)) {
            reason = 'execution or machine no longer exists';
            break;
          }
          if (err instanceof DedalusBackendError && err.code === 'DEDALUS_TIMEOUT') {
            reason = 'execution outlived job-timeout';
            break;
          }
          this.c.log.warn({ err, machineId: s.id }, 'watching the runner execution failed; retrying');
          await delay(this.c.timing.watchMaxMs, signal).catch(() => {});
          if (signal.aborted) return;
        }
      }
      await this.releaser.end(s, {
        exitCode: reason ? undefined : last.exit_code,
        reason: reason ?? describe(last),
        cancel: reason !== undefined,
      });
    })();
    this.c.track(
      task.catch((err: unknown) => this.c.log.error({ err, machineId: s.id }, 'runner watcher failed')),
    );
  }
}

function describe(e: Execution): string {
  const parts = [`execution ${e.status}`];
  if (e.signal !== undefined) parts.push(`signal ${e.signal}`);
  if (e.error_code) parts.push(e.error_code);
  return parts.join(', ');
}
