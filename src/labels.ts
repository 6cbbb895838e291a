import { randomBytes } from 'node:crypto';

/** Ownership marks stamped on every resource runner creates (Docker labels; names elsewhere). */
export const LABEL_MANAGED_BY = 'managed-by';
export const MANAGED_BY_VALUE = 'runner';
export const LABEL_INSTANCE = 'dev.runner.instance';
export const LABEL_SCALE_SET = 'dev.runner.scale-set';
export const LABEL_RUNNER_NAME = 'dev.runner.name';
export const LABEL_RUNNER_ID = 'dev.runner.runner-id';

/** Lower-case, [a-z0-9-] only, no leading/trailing dash: safe in container, VM and runner names. */
export function slug(s: string, max = 24): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, max)
    .replace(/-$/g, '');
  return out || 'x';
}

/** Short form of an instance id used inside resource names. */
export function instanceTag(instanceId: string): string {
  return slug(instanceId, 64).replace(/-/g, '').slice(0, 6) || 'x';
}

/**
 * The one place runner names are made: `<scale-set>-<instance>-<8 hex>`. The instance tag keeps two
 * daemons on one host apart; the scale-set slug keeps sets of one daemon apart. At most 40 chars
 * (GitHub allows 64).
 */
export function makeRunnerName(
  scaleSet: string,
  instanceId: string,
  random = randomBytes(4).toString('hex'),
): string {
  return `${slug(scaleSet, 24)}-${instanceTag(instanceId)}-${random}`;
}

/** The prefix every runner name of this owner starts with. */
export function runnerNamePrefix(scaleSet: string, instanceId: string): string {
  return `${slug(scaleSet, 24)}-${instanceTag(instanceId)}-`;
}
