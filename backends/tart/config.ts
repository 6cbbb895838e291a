import type { z } from 'zod';
import { type CamelKeys, camelKeys } from '../../src/schema/camel.js';
import type { TableChecker } from '../../src/schema/checker.js';
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
  'host-cpu': defaulted(
    int(0, 1024),
    0,
    'CPUs of this Mac that Tart VMs may use together (every Tart scale set and job shape); 0: only max-vms limits.',
  ),
  'host-memory': defaulted(
    size('MiB', { maxBytes: MEMORY_MAX_BYTES }),
    0,
    'Memory of this Mac in MiB (or a size like "64g") that Tart VMs may use together; 0: only max-vms limits.',
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

export function resolveTart(t: TartTable, { used, shapes, check: c }: ResolveScope): TartConfig {
  if (used && t['pool-size'] > t['max-vms'] && !c.broken(['max-vms'])) {
    c.problem(['pool-size'], `expected an integer ≤ tart.max-vms (${t['max-vms']}), got ${t['pool-size']}`);
  }
  // Job shapes size every VM themselves (and are checked against the budget as shapes).
  if (used && !shapes) checkSizeInBudget(t, c);
  return { ...camelKeys(t), home: t.home === '' ? '' : c.path(['home'], t.home) };
}

/**
 * With a Mac budget, each VM must say its size (0 keeps the image's, which the budget cannot count)
 * and fit in the budget on its own.
 */
function checkSizeInBudget(t: TartTable, c: TableChecker): void {
  const dims = [
    { key: 'cpu', budget: 'host-cpu', unit: 'CPUs' },
    { key: 'memory', budget: 'host-memory', unit: 'MiB' },
  ] as const;
  for (const d of dims) {
    const cap = t[d.budget];
    const want = t[d.key];
    if (cap === 0 || c.broken([d.budget])) continue;
    if (want === 0)
      c.problem(
        [d.key],
        `expected the VM's ${d.unit} when tart.${d.budget} is set (the budget counts each VM's size; 0 keeps the image's, which it cannot count), got 0`,
      );
    else if (want > cap)
      c.problem(
        [d.key],
        `expected at most ${cap} (tart.${d.budget}: no VM of this size could ever run), got ${want}`,
      );
  }
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
    for (const key of ['max-vms', 'host-cpu', 'host-memory'] as const) {
      if (t[key] === first.table[key]) continue;
      check.problem(
        [key],
        `expected the same value in every Tart scale set (it is one budget for the Mac), got ${t[key]} here and ${first.table[key]} in scaleset[${first.index}]`,
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
