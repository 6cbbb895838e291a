import { checkBackendsAcrossSets } from '../../backends/index.js';
import { slug } from '../labels.js';
import type { Checker } from './checker.js';
import type { ScaleSetSettings } from './schema.js';
import type { ScaleSetConfig } from './types.js';

/**
 * Checks that need every scale set at once. They run on the merged settings rather than on the
 * resolved sets, so a duplicate name is reported even when one of the two has other problems.
 */
export function checkAcrossSets(sets: readonly ScaleSetSettings[], c: Checker): void {
  uniqueNames(sets, c);
  // A backend's own limits across sets, e.g. Tart's one VM cap per host (backends/tart/config.ts).
  checkBackendsAcrossSets(
    sets.map((s, index) => ({ index, backend: s.backend, tables: s })),
    (index, kind) => c.forTable(index, kind),
  );
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
 * The scale sets made from job shapes need names of their own too, compared by slug like any other:
 * two shapes of one size, or a long base whose shape names differ only past the slug's 24 characters.
 * Pairs of sets without shapes were compared on the settings already (uniqueNames).
 */
export function checkShapeNames(sets: readonly ScaleSetConfig[], c: Checker): void {
  const seen = new Map<string, ScaleSetConfig>();
  for (const s of sets) {
    const key = slug(s.name);
    const first = seen.get(key);
    if (!first) {
      seen.set(key, s);
      continue;
    }
    if (!s.shape && !first.shape) continue;
    const why =
      first.name === s.name
        ? ''
        : ` (both become "${key}" in runner and container names, which keep only the first 24 lower-case letters, digits and dashes)`;
    const path = s.shape ? ['shape', s.shape.index, 'name'] : ['name'];
    c.problem(
      s.index,
      path,
      `expected a name no other scale set uses, got ${JSON.stringify(s.name)}, as ${first.shape ? 'a shape' : 'the scale set'} ${JSON.stringify(first.name)}${why}; give the shape a name of its own`,
    );
  }
}
