import type { OwnedRunner, Owner } from '../types.js';
import { vmSize } from './host.js';
import { PROCESS_TAG } from './journal.js';
import { listVms, localVms } from './list.js';
import { slotOfMac } from './mac.js';
import { vmPrefix } from './names.js';
import { destroyVm, type VmEnv } from './vm.js';

export interface AdoptedRunner {
  name: string;
  vm: string;
  runnerId?: number;
  running: boolean;
  /** Its end was already recorded (and reported) before the restart. */
  ended: boolean;
}

/**
 * Takes over what a previous process of the same owner left: runner VMs whose runner was started are
 * kept (they may be running a job) and counted against the host cap; warm VMs and runner VMs that never
 * got their JIT config are deleted, since no job can be on them. Records of this very process (another
 * live backend of the same owner) are left alone, and records whose VM is gone are dropped. VMs without
 * a record are never touched, however they are named.
 */
export async function adoptVms(env: VmEnv, owner: Owner, signal: AbortSignal): Promise<AdoptedRunner[]> {
  const [records, vms] = await Promise.all([env.journal.read(), listVms(env.cli, signal)]);
  const local = localVms(vms);
  const prefix = vmPrefix(owner);
  const adopted: AdoptedRunner[] = [];
  for (const [vm, rec] of Object.entries(records)) {
    if (rec.proc === PROCESS_TAG) continue;
    const info = local.get(vm);
    if (!info || !vm.startsWith(prefix)) {
      await env.journal.drop(vm);
      continue;
    }
    if (rec.kind === 'runner' && rec.phase === 'started' && rec.runner) {
      if (info.running) env.host.adopt(vm, slotOfMac(env.instanceId, rec.mac), vmSize(env.tart));
      await env.journal.patch(vm, { proc: PROCESS_TAG });
      adopted.push({
        name: rec.runner,
        vm,
        running: info.running,
        ended: rec.exit !== undefined,
        ...(rec.runnerId === undefined ? {} : { runnerId: rec.runnerId }),
      });
      continue;
    }
    env.logger.info({ vm, kind: rec.kind, phase: rec.phase }, 'deleting a VM left by a previous run');
    await destroyVm(env, vm, signal).catch((err: unknown) =>
      env.logger.error({ err, vm }, 'could not delete a VM left by a previous run'),
    );
  }
  return adopted;
}

/**
 * Every VM of this owner that exists, as the scaler sees runners. Pure read: no adoption side effects,
 * so `doctor` can call it. Warm VMs of a live pool in this process are not runners and are left out;
 * one left by a dead process is listed under its VM name (state unknown) so it can be removed.
 */
export async function listOwnedVms(env: VmEnv, owner: Owner, signal: AbortSignal): Promise<OwnedRunner[]> {
  const [records, vms] = await Promise.all([env.journal.read(), listVms(env.cli, signal)]);
  const local = localVms(vms);
  const prefix = vmPrefix(owner);
  const out: OwnedRunner[] = [];
  for (const [vm, rec] of Object.entries(records)) {
    const info = local.get(vm);
    if (!info || !vm.startsWith(prefix)) continue;
    const live = rec.proc === PROCESS_TAG;
    if (rec.kind === 'pool' && live) continue;
    const state =
      rec.exit || !info.running
        ? 'exited'
        : rec.phase === 'started'
          ? 'running'
          : live
            ? 'starting'
            : 'unknown';
    out.push({
      name: rec.kind === 'runner' && rec.runner ? rec.runner : vm,
      resourceId: vm,
      state,
      createdAt: new Date(rec.createdAt),
      ...(rec.runnerId === undefined ? {} : { runnerId: rec.runnerId }),
      ...(rec.exit?.code === undefined ? {} : { exitCode: rec.exit.code }),
    });
  }
  return out;
}
