import { slug } from '../labels.js';
import type { Checker } from './checker.js';
import type { ScaleSetSettings } from './schema.js';

/**
 * Checks that need every scale set at once. They run on the merged settings rather than on the
 * resolved sets, so a duplicate name is reported even when one of the two has other problems.
 */
export function checkAcrossSets(sets: readonly ScaleSetSettings[], c: Checker): void {
  uniqueNames(sets, c);
  tartHostLimits(sets, c);
}

/**
 * Names must differ, and so must their slugs: runner, container and VM names are built from the
 * slug (src/labels.ts), so "Linux x64" and "linux-x64" would claim each other's runners.
 */
function uniqueNames(sets: readonly ScaleSetSettings[], c: Checker): void {
  const seen = new Map<string, { index: number; name: string }>();
  sets.forEach((s, index) => {
    if (s.name === undefined) return;
    const key = slug(s.name);
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { index, name: s.name });
      return;
    }
    const why =
      first.name === s.name
        ? ''
        : ` (both become "${key}" in runner and container names, which keep only the first 24 lower-case letters, digits and dashes)`;
    c.problemInSet(
      index,
      ['name'],
      `expected a name no other scale set uses, got ${JSON.stringify(s.name)}, as scaleset[${first.index}] ${JSON.stringify(first.name)}${why}`,
    );
  });
}

/**
 * max-vms caps VMs across every Tart set of the process (Apple allows two per host), so the sets
 * must agree on it and their warm pools must fit in it together.
 */
function tartHostLimits(sets: readonly ScaleSetSettings[], c: Checker): void {
  const tart = sets.flatMap((s, index) => (s.backend === 'tart' ? [{ index, ...s.tart }] : []));
  const first = tart[0];
  if (!first || tart.length < 2) return;
  let pooled = 0;
  for (const t of tart) {
    if (t['max-vms'] !== first['max-vms']) {
      c.problem(
        t.index,
        ['tart', 'max-vms'],
        `expected the same value in every Tart scale set (it is one cap for the host), got ${t['max-vms']} here and ${first['max-vms']} in scaleset[${first.index}]`,
      );
      return;
    }
    pooled += t['pool-size'];
    if (t['pool-size'] > 0 && pooled > first['max-vms']) {
      c.problem(
        t.index,
        ['tart', 'pool-size'],
        `expected the pools of all Tart scale sets to fit in tart.max-vms (${first['max-vms']}) together, got ${pooled} in total`,
      );
      return;
    }
  }
}
