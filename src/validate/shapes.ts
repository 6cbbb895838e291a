import type { CheckResult } from '../checks/result.js';
import type { ScaleSetConfig } from '../config/types.js';
import { isHostedUrl } from '../github/index.js';
import { CUSTOM_LABELS_FLAG, scaleSetLabelNames } from '../github/scale-set-labels.js';
import { formatSize } from '../schema/units.js';

/**
 * The `runner validate` row of a scale set made from a job shape: what a workflow writes to reach it,
 * and the size its runners get from its backend. On GHES a warning as well: 3.18–3.20 drops every label
 * but the scale set's name unless a feature flag is on, and then `runs-on: [linux, cpu=2]` routes
 * nowhere (the labels check after it says whether GitHub kept them for a set that exists).
 */
export function shapeRows(set: ScaleSetConfig): CheckResult[] {
  const shape = set.shape;
  if (!shape) return [];
  const runsOn = set.labels.join(', ');
  const limits = [
    `${set.backend}: ${backendSize(set)}`,
    `image ${set.runnerImage || '(the backend default)'}`,
    `min-runners ${set.minRunners}, max-runners ${set.maxRunners}`,
    `registered labels ${scaleSetLabelNames(set.name, set.labels).join(', ')}`,
  ].join('; ');
  const row: CheckResult = {
    id: 'shape',
    scaleSet: set.name,
    title: `job shape of "${shape.base}": runs-on: [${runsOn}]`,
    status: 'ok',
    detail: limits,
  };
  if (!isHostedUrl(set.url)) {
    row.status = 'warn';
    row.hint = `GitHub Enterprise Server 3.18–3.20 keeps only the scale set's name as its label unless ${CUSTOM_LABELS_FLAG} is on; without it jobs reach this shape only with runs-on: ${set.name}`;
  }
  return [row];
}

/** The size as the backend's own keys say it. */
function backendSize(set: ScaleSetConfig): string {
  switch (set.backend) {
    case 'docker': {
      const d = set.docker;
      const platform = d.platform ? `, platform ${d.platform}` : '';
      return `cpus ${d.cpus}, memory ${formatSize(d.memory)}${platform}`;
    }
    case 'tart':
      return `cpu ${set.tart.cpu}, memory ${set.tart.memory} MiB`;
    case 'dedalus':
      return `vcpu ${set.dedalus.vcpu}, memory-mib ${set.dedalus.memoryMib}, storage-gib ${set.dedalus.storageGib}`;
  }
}
