import { replaceAlternatives } from '../../backends/index.js';
import { isTable } from './paths.js';

/**
 * The one inheritance rule: a layer overrides exactly the keys it contains, tables merge key by key,
 * arrays and scalars replace. 0, false and "" are ordinary values, so a scale set can switch off
 * what the top level switched on (runscaler's "zero means inherit" cannot).
 */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isTable(current) && isTable(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * deepMerge for the settings of a scale set, plus one rule: `token` and `[github-app]` are two ways
 * to authenticate, so a layer that sets one drops the other inherited from below (a scale set with
 * its own App does not also carry the top-level token). Backend tables have the same rule for their
 * own pairs of keys (`[docker] host` and `[[docker.hosts]]`).
 */
export function mergeSettings<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const below: Record<string, unknown> = { ...replaceAlternatives(base, over) };
  if (over.token !== undefined) delete below['github-app'];
  if (hasGitHubApp(over)) delete below.token;
  return deepMerge(below, over) as T;
}

/** An empty `[github-app]` header (a commented-out example, say) does not count as choosing an App. */
export function hasGitHubApp(settings: Record<string, unknown>): boolean {
  const app = settings['github-app'];
  return isTable(app) && Object.keys(app).length > 0;
}
