import type { ActionsClient } from '../github/client.js';
import type { Label, RunnerScaleSet } from '../github/types.js';
import type { Logger } from '../log.js';

export interface ScaleSetSpec {
  name: string;
  runnerGroup: string;
  labels: string[];
}

/**
 * Gets or creates the scale set and brings its labels and group up to date. The scale set is kept
 * across restarts (updated, never deleted and re-created), so its id, queued jobs and runners survive.
 */
export async function ensureScaleSet(
  client: ActionsClient,
  spec: ScaleSetSpec,
  log: Logger,
  signal?: AbortSignal,
): Promise<RunnerScaleSet & { id: number }> {
  // Group 1 is GitHub's default group; the reference clients skip the lookup for it.
  const groupId =
    spec.runnerGroup === '' || spec.runnerGroup.toLowerCase() === 'default'
      ? 1
      : (await client.getRunnerGroupByName(spec.runnerGroup, signal)).id;
  const labels: Label[] = dedupe([spec.name, ...spec.labels]).map((name) => ({ type: 'System', name }));
  const desired: RunnerScaleSet = {
    name: spec.name,
    runnerGroupId: groupId,
    labels,
    RunnerSetting: { disableUpdate: true },
  };
  const existing = await client.getRunnerScaleSet(groupId, spec.name, signal);
  if (existing?.id) {
    const updated = await client.updateRunnerScaleSet(existing.id, desired, signal);
    log.info({ scaleSetId: existing.id }, 'scale set found and updated');
    return { ...updated, id: updated.id ?? existing.id };
  }
  const created = await client.createRunnerScaleSet(desired, signal);
  if (!created.id) throw new Error(`scale set "${spec.name}" was created but the response has no id`);
  log.info({ scaleSetId: created.id }, 'scale set created');
  return { ...created, id: created.id };
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x.length > 0))];
}
