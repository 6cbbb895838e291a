import type Docker from 'dockerode';
import {
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_RUNNER_ID,
  LABEL_RUNNER_NAME,
  LABEL_SCALE_SET,
  MANAGED_BY_VALUE,
} from '../../src/labels.js';
import type { OwnedRunner, OwnedState, Owner } from '../types.js';

/** The labels that say "this owner's": stamped on containers and volumes, required by every query. */
export function ownerLabels(owner: Owner): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_INSTANCE]: owner.instanceId,
    [LABEL_SCALE_SET]: owner.scaleSet,
  };
}

/** The same labels as Docker `label=k=v` filters (the engine ANDs them). */
export function ownerLabelFilters(owner: Owner): string[] {
  return Object.entries(ownerLabels(owner)).map(([k, v]) => `${k}=${v}`);
}

/** Checked again on our side: a filter typo or an engine quirk must not make a stranger's container ours. */
export function hasOwnerLabels(labels: Record<string, string> | undefined, owner: Owner): boolean {
  if (!labels) return false;
  return Object.entries(ownerLabels(owner)).every(([k, v]) => labels[k] === v);
}

/**
 * A runner container is one whose name is the runner name it is labelled with. That keeps other
 * containers carrying our labels (a buildx builder started for one of our jobs) out of the runner list.
 */
export function isOwnedRunner(info: Docker.ContainerInfo, owner: Owner): boolean {
  const name = info.Labels?.[LABEL_RUNNER_NAME];
  return hasOwnerLabels(info.Labels, owner) && name !== undefined && containerName(info) === name;
}

export function containerName(info: Docker.ContainerInfo): string {
  return (info.Names?.[0] ?? '').replace(/^\//, '');
}

export function toOwnedRunner(info: Docker.ContainerInfo): OwnedRunner {
  const state = stateOf(info.State);
  const runnerId = Number.parseInt(info.Labels?.[LABEL_RUNNER_ID] ?? '', 10);
  const out: OwnedRunner = { name: containerName(info), resourceId: info.Id, state };
  if (Number.isSafeInteger(runnerId)) out.runnerId = runnerId;
  if (typeof info.Created === 'number') out.createdAt = new Date(info.Created * 1000);
  if (state === 'exited') {
    const code = exitCodeFromStatus(info.Status);
    if (code !== undefined) out.exitCode = code;
  }
  return out;
}

function stateOf(state: string): OwnedState {
  switch (state) {
    case 'created':
      return 'starting';
    case 'running':
    case 'restarting':
    case 'paused':
      return 'running';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

/**
 * The list endpoint gives the exit code only inside its human status ("Exited (3) 2 seconds ago"); the
 * format has been stable for a decade, and inspecting every exited container to read it would cost a
 * round trip each. When it does not parse, the code is left unknown rather than guessed.
 */
export function exitCodeFromStatus(status: string | undefined): number | undefined {
  const m = /^Exited \((-?\d+)\)/.exec(status ?? '');
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
