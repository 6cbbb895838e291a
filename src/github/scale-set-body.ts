import { InvalidArgumentError } from './errors.js';
import type { Label, RunnerScaleSet, RunnerSetting } from './types.js';

/** What create/update accept: a scale set whose labels may omit `type` (it defaults to "System"). */
export interface RunnerScaleSetInput extends Omit<RunnerScaleSet, 'labels'> {
  labels?: { name: string; type?: string }[];
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The JSON body of §4.5/§4.6 in Go's field order. Zero values are omitted like Go's `omitempty`,
 * except `RunnerSetting` and `createdOn`, which Go always emits.
 */
export function scaleSetBody(input: RunnerScaleSetInput, mode: 'create' | 'update'): Record<string, unknown> {
  let labels: Label[] = (input.labels ?? []).map((l) => ({ type: l.type || 'System', name: l.name }));
  if (mode === 'create' && labels.length === 0) {
    if (!input.name)
      throw new InvalidArgumentError('runner scale set must have a name or at least one label');
    labels = [{ type: 'System', name: input.name }];
  }
  const body: Record<string, unknown> = {};
  if (input.id) body.id = input.id;
  if (input.name) body.name = input.name;
  if (input.runnerGroupId) body.runnerGroupId = input.runnerGroupId;
  if (input.runnerGroupName) body.runnerGroupName = input.runnerGroupName;
  if (labels.length > 0) body.labels = labels;
  body.RunnerSetting = runnerSettingBody(input.RunnerSetting);
  body.createdOn = input.createdOn || GO_ZERO_TIME;
  return body;
}

function runnerSettingBody(setting: RunnerSetting | undefined): RunnerSetting {
  const out: RunnerSetting = {};
  if (setting?.ephemeral) out.ephemeral = true;
  if (setting?.isElastic) out.isElastic = true;
  if (setting?.disableUpdate) out.disableUpdate = true;
  return out;
}
