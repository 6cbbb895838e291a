import type { CheckResult } from '../checks/result.js';
import { fail, ok } from '../checks/result.js';
import { runCheck } from '../checks/run-check.js';
import type { ScaleSetConfig } from '../config/types.js';
import type { ActionsClient, RunnerGroup } from '../github/index.js';
import { isHostedUrl } from '../github/index.js';
import { droppedLabelsAdvice, missingLabels, scaleSetLabelNames } from '../github/scale-set-labels.js';

/**
 * Whether GitHub keeps the scale set's labels, known without creating anything: the scale set as it
 * exists at GitHub (a read) is compared with the labels `runner run` would register (§4.5).
 *
 * It fails only on what GHES 3.18–3.20 leaves without its flag: a scale set on GHES whose one label is
 * its name while the config has more. Other differences are what `runner run` changes at start (a label
 * added to the config since), so they pass with a note; the daemon compares GitHub's answer itself and
 * logs an error if a label is dropped then. A scale set that does not exist yet passes the same way.
 */
export function scaleSetLabelsCheck(
  set: ScaleSetConfig,
  client: ActionsClient,
  group: RunnerGroup | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult> | CheckResult {
  const wanted = scaleSetLabelNames(set.name, set.labels);
  const title = `GitHub keeps the scale set's labels (${wanted.join(', ')})`;
  if (!group)
    return {
      id: 'scale-set-labels',
      scaleSet: set.name,
      title,
      status: 'skip',
      detail: 'needs the runner group',
    };
  return runCheck(
    {
      id: 'scale-set-labels',
      scaleSet: set.name,
      title,
      run: async (sig) => {
        const existing = await client.getRunnerScaleSet(group.id, set.name, sig);
        if (!existing)
          return ok(
            'the scale set does not exist yet: runner run creates it and checks the labels GitHub keeps',
          );
        const atGitHub = existing.labels ?? [];
        const missing = missingLabels(wanted, atGitHub);
        if (missing.length === 0) return ok(`at GitHub: ${atGitHub.map((l) => l.name).join(', ')}`);
        const onlyItsName = atGitHub.every((l) => l.name.toLowerCase() === set.name.toLowerCase());
        const detail = `the scale set at GitHub has the labels ${atGitHub.map((l) => l.name).join(', ')}; ${missing.join(', ')} missing`;
        if (onlyItsName && !isHostedUrl(set.url)) {
          return fail(
            detail,
            `${droppedLabelsAdvice(missing, false)}. If the labels were added to the config since runner last ran, runner run sets them at start and logs whether GitHub kept them.`,
          );
        }
        return ok(`${detail}: runner run sets them at start, and logs an error if GitHub does not keep them`);
      },
    },
    timeoutMs,
    signal,
  );
}
