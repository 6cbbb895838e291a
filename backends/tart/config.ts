import type { z } from 'zod';
import { type CamelKeys, camelKeys } from '../../src/schema/camel.js';
import {
  AGE_MAX_MS,
  absolutePath,
  defaulted,
  duration,
  int,
  MEMORY_MAX_BYTES,
  oneOf,
  size,
  str,
  TIMER_MAX_MS,
  table,
} from '../../src/schema/fields.js';
import type { ResolveScope, SetTable } from '../module.js';

/** The `[tart]` table: keys, defaults and why they exist; its resolved shape and its checks. */

const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
/** VMs on one Mac: Apple's licence allows 2; 32 leaves room for other licences without allowing a typo. */
const VMS_MAX = 32;

export const tartTable = table('[tart]', {
  home: defaulted(str(), '', "TART_HOME for every tart call; '' uses $TART_HOME or ~/.tart."),
  'runner-dir': defaulted(
    absolutePath('in the VM'),
    '/Users/admin/actions-runner',
    'Directory in the VM image that holds run.sh.',
  ),
  'pool-size': defaulted(
    int(0, VMS_MAX),
    0,
    'VMs kept booted and waiting, so a job starts in seconds instead of ~30s.',
  ),
  // The largest Apple silicon has 32 cores.
  cpu: defaulted(int(0, 64), 0, 'vCPUs per VM; 0 keeps the image setting.'),
  memory: defaulted(
    size('MiB', { maxBytes: MEMORY_MAX_BYTES }),
    0,
    'Memory per VM in MiB (or a size like "8g"); 0 keeps the image setting.',
  ),
  'max-vms': defaulted(
    int(1, VMS_MAX),
    2,
    "VMs running at once across all Tart scale sets; macOS's licence allows 2 per host.",
  ),
  'boot-timeout': defaulted(
    // A cold boot takes about 30 s; a VM silent for an hour is not coming up.
    duration({ min: 1_000, max: 3_600_000 }),
    '2m',
    'A VM not reachable by then is deleted and the start retried.',
  ),
  'pull-policy': defaulted(
    oneOf(PULL_POLICIES),
    'if-not-present',
    'When to pull runner-image with tart pull.',
  ),
  'prune-interval': defaulted(
    duration({ max: TIMER_MAX_MS }),
    '24h',
    'How often to prune the tart image cache; 0 disables pruning.',
  ),
  'prune-max-age': defaulted(
    duration({ max: AGE_MAX_MS }),
    '7d',
    'Cached images unused for this long are pruned.',
  ),
  'prune-space-budget': defaulted(
    size('bytes', { maxBytes: 100 * 1024 ** 4 }),
    0,
    'Prune the oldest cached images until the cache fits, e.g. "100g"; 0 for no cap.',
  ),
});

type TartTable = z.output<typeof tartTable>;

/**
 * `[tart]` as the backend runs on it: the table's keys camelCased; durations in ms, `memory` in MiB,
 * `pruneSpaceBudget` in bytes; `home` an absolute path ('' = $TART_HOME or ~/.tart).
 */
export type TartConfig = CamelKeys<TartTable>;

export function resolveTart(t: TartTable, { used, check: c }: ResolveScope): TartConfig {
  if (used && t['pool-size'] > t['max-vms'] && !c.broken(['max-vms'])) {
    c.problem(['pool-size'], `expected an integer ≤ tart.max-vms (${t['max-vms']}), got ${t['pool-size']}`);
  }
  return { ...camelKeys(t), home: t.home === '' ? '' : c.path(['home'], t.home) };
}

/**
 * max-vms caps VMs across every Tart set of the process (Apple allows two per host), so the sets
 * must agree on it and their warm pools must fit in it together.
 */
export function checkTartHostLimits(sets: readonly SetTable<TartTable>[]): void {
  const first = sets[0];
  if (!first || sets.length < 2) return;
  const cap = first.table['max-vms'];
  let pooled = 0;
  for (const { table: t, check } of sets) {
    if (t['max-vms'] !== cap) {
      check.problem(
        ['max-vms'],
        `expected the same value in every Tart scale set (it is one cap for the host), got ${t['max-vms']} here and ${cap} in scaleset[${first.index}]`,
      );
      return;
    }
    pooled += t['pool-size'];
    if (t['pool-size'] > 0 && pooled > cap) {
      check.problem(
        ['pool-size'],
        `expected the pools of all Tart scale sets to fit in tart.max-vms (${cap}) together, got ${pooled} in total`,
      );
      return;
    }
  }
}
