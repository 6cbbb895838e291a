import type { ActionsClient } from '../github/client.js';
import { isHostedUrl } from '../github/config-url.js';
import { droppedLabelsAdvice, missingLabels, scaleSetLabelNames } from '../github/scale-set-labels.js';
import type { Label, RunnerScaleSet } from '../github/types.js';
import type { Logger } from '../log.js';

export interface ScaleSetSpec {
  url: string;
  name: string;
  runnerGroup: string;
  labels: string[];
}

export type RegisteredScaleSet = RunnerScaleSet & {
  id: number;
  /** Configured labels GitHub's answer left out (GHES 3.18–3.20 without its flag, §4.5); usually none. */
  droppedLabels: string[];
};

/**
 * Gets or creates the scale set and brings its labels and group up to date. The scale set is kept
 * across restarts (updated, never deleted and re-created), so its id, queued jobs and runners survive.
 * GitHub's answer is compared with the labels sent: one it dropped without an error is logged at error
 * level, naming the GHES flag, and returned for the status.
 */
export async function ensureScaleSet(
  client: ActionsClient,
  spec: ScaleSetSpec,
  log: Logger,
  signal?: AbortSignal,
): Promise<RegisteredScaleSet> {
  // Group 1 is GitHub's default group; the reference clients skip the lookup for it.
  const groupId =
    spec.runnerGroup === '' || spec.runnerGroup.toLowerCase() === 'default'
      ? 1
      : (await client.getRunnerGroupByName(spec.runnerGroup, signal)).id;
  const wanted = scaleSetLabelNames(spec.name, spec.labels);
  const labels: Label[] = wanted.map((name) => ({ type: 'System', name }));
  const desired: RunnerScaleSet = {
    name: spec.name,
    runnerGroupId: groupId,
    labels,
    RunnerSetting: { disableUpdate: true },
  };
  const existing = await client.getRunnerScaleSet(groupId, spec.name, signal);
  let registered: RunnerScaleSet & { id: number };
  if (existing?.id) {
    const updated = await client.updateRunnerScaleSet(existing.id, desired, signal);
    log.info({ scaleSetId: existing.id }, 'scale set found and updated');
    registered = { ...updated, id: updated.id ?? existing.id };
  } else {
    const created = await client.createRunnerScaleSet(desired, signal);
    if (!created.id) throw new Error(`scale set "${spec.name}" was created but the response has no id`);
    log.info({ scaleSetId: created.id }, 'scale set created');
    registered = { ...created, id: created.id };
  }
  const droppedLabels = missingLabels(wanted, registered.labels);
  if (droppedLabels.length > 0) {
    log.error(
      {
        scaleSetId: registered.id,
        configured: wanted,
        atGitHub: registered.labels?.map((l) => l.name),
        dropped: droppedLabels,
      },
      droppedLabelsAdvice(droppedLabels, isHostedUrl(spec.url)),
    );
  }
  return { ...registered, droppedLabels };
}
