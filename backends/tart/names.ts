import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { instanceTag, runnerNamePrefix, slug } from '../../src/labels.js';
import type { Owner } from '../types.js';

/**
 * VM names carry the owner: `<scale-set>-<instance>-…`, the prefix of every runner name of this owner
 * (src/labels.ts). A cold-booted runner's VM is named after the runner; a warm VM is
 * `<prefix>pool-<8 hex>` and keeps that name when it becomes a runner (renaming a running VM is not
 * something tart supports), with the journal mapping VM ↔ runner.
 */
export function vmPrefix(owner: Owner): string {
  return runnerNamePrefix(owner.scaleSet, owner.instanceId);
}

export function runnerVmName(owner: Owner, runnerName: string): string {
  const prefix = vmPrefix(owner);
  return runnerName.startsWith(prefix) ? runnerName : `${prefix}${slug(runnerName, 40)}`;
}

export function poolVmName(owner: Owner): string {
  return `${vmPrefix(owner)}pool-${randomBytes(4).toString('hex')}`;
}

/**
 * The journal file of this owner. The hash keeps two scale sets whose names slug alike ("CI Mac",
 * "ci-mac") apart.
 */
export function journalPath(stateDir: string, owner: Owner): string {
  const hash = createHash('sha256')
    .update(`${owner.instanceId}\0${owner.scaleSet}`)
    .digest('hex')
    .slice(0, 8);
  return join(stateDir, `tart-${slug(owner.scaleSet)}-${instanceTag(owner.instanceId)}-${hash}.json`);
}
