import type { Label } from './types.js';

/**
 * A scale set's labels (§4.5), and what to say when GitHub did not keep them. GHES 3.18–3.20 keeps only
 * the scale set's name as its label unless this appliance feature flag is on (it is on by default from
 * 3.21), and drops the others without an error: the scale set registers, the listener runs, and every
 * job that targets a dropped label waits for ever.
 */
export const CUSTOM_LABELS_FLAG = 'DistributedTask.AllowRunnerScaleSetCustomLabels';

/** The labels runner registers: the scale set's name first, then the configured ones, once each (§4.5). */
export function scaleSetLabelNames(name: string, labels: readonly string[]): string[] {
  return [...new Set([name, ...labels].filter((l) => l.length > 0))];
}

/**
 * The wanted labels missing from what GitHub answered, compared without case (`runs-on` matches labels
 * that way). An answer with no labels at all says nothing (GitHub always keeps at least the name), so
 * it yields none rather than "all dropped".
 */
export function missingLabels(wanted: readonly string[], atGitHub: readonly Label[] | undefined): string[] {
  if (!atGitHub || atGitHub.length === 0) return [];
  const kept = new Set(atGitHub.map((l) => l.name.toLowerCase()));
  return wanted.filter((l) => !kept.has(l.toLowerCase()));
}

/** How a GHES site admin turns the flag on (actions/scaleset README, "Multiple labels per scale set"). */
export const CUSTOM_LABELS_FLAG_HOWTO = `a GHES site admin turns it on: ssh admin@<ghes> then \`ghe-actions-console -s actions\` and \`Set-FeatureFlag -FeatureName ${CUSTOM_LABELS_FLAG} -State On\``;

/** One sentence for a log line or a check's hint: what happened, why, and what to do. */
export function droppedLabelsAdvice(dropped: readonly string[], isHosted: boolean): string {
  const list = dropped.join(', ');
  if (isHosted) {
    return `GitHub's answer does not list the labels ${list}: jobs whose runs-on names them wait for ever; if the scale set existed before these labels were configured, GitHub may not have taken the change: delete the scale set at GitHub (its queued jobs go with it) and runner creates it anew with these labels`;
  }
  return `GitHub Enterprise Server dropped the labels ${list}: GHES 3.18–3.20 keeps only the scale set's name unless the appliance feature flag ${CUSTOM_LABELS_FLAG} is on (${CUSTOM_LABELS_FLAG_HOWTO}), then restart runner; until then jobs whose runs-on names them wait for ever`;
}
