import { isNotFound } from './api/errors.js';
import { type Execution, type Machine, TERMINAL_STATUSES } from './api/schemas.js';
import type { DedalusConfig } from './config.js';
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
    // A machine of another size never takes a job of this set (its size or job shape changed).
    s.misfit = sizeMisfit(m, c.cfg);
    if (s.misfit && !rec.currentRunner) {
      c.track(parts.provisioner.discard(s, s.misfit));
      continue;
    }
    await keepAutosleep(c, s.id, m.autosleep_seconds, signal);
    if (rec.currentRunner) await adoptRunner(c, parts, s, signal);
  }
  await parts.provisioner.replayPending(signal);
}

/**
 * How the machine's size differs from the config's, if it does. A size the API leaves out is taken as
 * matching: nothing is known against it.
 */
export function sizeMisfit(
  m: Pick<Machine, 'vcpu' | 'memory_mib' | 'storage_gib'>,
  cfg: Pick<DedalusConfig, 'vcpu' | 'memoryMib' | 'storageGib'>,
): string | undefined {
  const diffs: string[] = [];
  if (m.vcpu !== undefined && m.vcpu !== cfg.vcpu) diffs.push(`vcpu ${m.vcpu}, not ${cfg.vcpu}`);
  if (m.memory_mib !== undefined && m.memory_mib !== cfg.memoryMib)
    diffs.push(`memory-mib ${m.memory_mib}, not ${cfg.memoryMib}`);
  if (m.storage_gib !== undefined && m.storage_gib !== cfg.storageGib)
    diffs.push(`storage-gib ${m.storage_gib}, not ${cfg.storageGib}`);
  return diffs.length > 0 ? `machine of another size (${diffs.join(', ')})` : undefined;
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
