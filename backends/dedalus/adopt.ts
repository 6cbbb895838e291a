import { isNotFound } from './api/errors.js';
import { type Execution, TERMINAL_STATUSES } from './api/schemas.js';
import type { DedalusContext } from './context.js';
import { autosleepFor } from './options.js';
import type { Provisioner } from './provision.js';
import type { Releaser } from './release.js';
import type { RunnerHost } from './runner-host.js';
import type { Slot } from './slot.js';

/**
 * Takes over the machines a previous process left in the state file. A runner's execution outlives a
 * daemon crash, so a live one is watched again; one that ended meanwhile is reported as exited; a
 * start cut short before its execution id was saved has its executions found and cancelled. Half-made
 * machines (unprovisioned, pending creates, unfinished deletes) are deleted.
 */
export async function adopt(
  c: DedalusContext,
  parts: { provisioner: Provisioner; releaser: Releaser; host: RunnerHost },
  signal: AbortSignal,
): Promise<void> {
  const { fleet } = c;
  for (const s of [...fleet.slots.values()]) {
    // A retry after a failed adoption skips what the first attempt already took over.
    if (s.use !== 'idle') continue;
    const rec = s.rec;
    if (rec.deleting || !rec.provisioned) {
      c.track(
        parts.provisioner.discard(
          s,
          rec.deleting ? 'unfinished delete' : 'provisioning interrupted by a restart',
        ),
      );
      continue;
    }
    // Gone is a 404 or a machine reported destroyed (the API may list one for a while).
    const m = await c.ops.read(s.id, signal);
    if (!m) {
      c.log.warn(
        { machineId: s.id },
        'a machine in the state file no longer exists at Dedalus; forgetting it',
      );
      await gone(c, s);
      continue;
    }
    s.phase = m.status.phase;
    await keepAutosleep(c, s.id, m.autosleep_seconds, signal);
    if (rec.currentRunner) await adoptRunner(c, parts, s, signal);
  }
  await parts.provisioner.replayPending(signal);
}

async function adoptRunner(
  c: DedalusContext,
  parts: { releaser: Releaser; host: RunnerHost },
  s: Slot,
  signal: AbortSignal,
): Promise<void> {
  const runner = s.rec.currentRunner?.name;
  s.use = 'hosting';
  const eid = s.rec.executionId;
  if (!eid) {
    // Crashed between saving the runner and saving its execution id: find what we may have started.
    for (const e of (await c.client.executions.list(s.id, {}, signal)).items) {
      if (!TERMINAL_STATUSES.has(e.status)) await c.ops.cancel(s.id, e.execution_id, signal);
    }
    c.track(
      parts.releaser.end(s, { exitCode: undefined, reason: 'start interrupted by a restart', cancel: false }),
    );
    return;
  }
  let e: Execution;
  try {
    e = await c.client.executions.retrieve(s.id, eid, signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    c.track(
      parts.releaser.end(s, { exitCode: undefined, reason: 'execution no longer exists', cancel: false }),
    );
    return;
  }
  c.log.info({ runner, machineId: s.id, status: e.status }, 'adopted a runner of a previous run');
  parts.host.watch(s, e);
}

/**
 * Machines made under an older job-timeout carry an autosleep that could now freeze a long job (or
 * one that keeps a dead daemon's machine awake for too long): bring it in line with this config.
 */
async function keepAutosleep(
  c: DedalusContext,
  machineId: string,
  current: number | undefined,
  signal: AbortSignal,
): Promise<void> {
  const wanted = autosleepFor(c.cfg, c.timing);
  if (current === undefined || current === Number(wanted)) return;
  await c.client.machines.update(machineId, { autosleep: wanted }, signal);
}

/** The machine vanished: a runner it hosted is reported exited, and the record goes. */
async function gone(c: DedalusContext, s: Slot): Promise<void> {
  const r = s.rec.currentRunner;
  if (r) {
    const at = new Date();
    await c.fleet.state.addExited({
      ...r,
      machineId: s.id,
      exitedAt: at.toISOString(),
      reason: 'machine no longer exists',
    });
    c.events.emit({ type: 'exited', name: r.name, resourceId: s.id, reason: 'machine no longer exists', at });
  }
  await c.fleet.drop(s);
}
