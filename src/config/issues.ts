import type { z } from 'zod';
import type { ConfigProblem, ProblemLocation } from './errors.js';
import { findKey, keysByTable } from './keys.js';
import { getAt, type KeyPath, showValue } from './paths.js';
import { daemonShape } from './schema.js';

/** Turns zod issues into problems that say where, what was expected and what was found. */

export interface IssueContext {
  /** The layer's input, for the "got …" half. */
  raw: unknown;
  /** Where a path of this layer was written. */
  locate(path: KeyPath): ProblemLocation;
  /** True for a `[[scaleset]]` entry, where daemon-wide keys are misplaced. */
  inScaleSet: boolean;
}

/** runscaler keys that mean something here under another name or shape. */
const RENAMED: Record<string, string> = {
  'docker.socket': 'renamed: write host = "unix:///var/run/docker.sock" (any DOCKER_HOST form works)',
  'docker.cpu': 'renamed to cpus (fractions allowed)',
  'docker.buildx-cleanup-ttl':
    'a runscaler key runner does not have; buildx-cleanup switches the cleanup on or off',
  'docker.buildx-cleanup-interval':
    'a runscaler key runner does not have; buildx-cleanup switches the cleanup on or off',
  'docker.shared-volume-ttl': 'a runscaler key runner does not have',
  'docker.shared-volume-cleanup-interval': 'a runscaler key runner does not have',
  'tart.cache-cleanup': 'renamed: prune-interval = 0 turns pruning off',
  'tart.cache-cleanup-interval': 'renamed to prune-interval',
  'tart.cache-max-age': 'renamed to prune-max-age (a duration such as "7d")',
  'tart.cache-space-budget': 'renamed to prune-space-budget, now a size such as "50g" (runscaler counted GB)',
};

export function issueProblems(issue: z.core.$ZodIssue, ctx: IssueContext): ConfigProblem[] {
  const path = issue.path as KeyPath;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      ...ctx.locate([...path, key]),
      message: unknownKeyMessage(tableOf(path), key, ctx.inScaleSet),
    }));
  }
  if (issue.code === 'invalid_key') {
    const key = path[path.length - 1];
    const expected = issue.issues[0]?.message ?? issue.message;
    return [{ ...ctx.locate(path), message: `expected ${expected}, got ${showValue(key)}` }];
  }
  const got = showValue(getAt(ctx.raw, path), isSecretPath(path));
  return [{ ...ctx.locate(path), message: `expected ${issue.message}, got ${got}` }];
}

/** The table a path points into, without array indexes: `["docker", "mounts", 0]` → `docker.mounts`. */
function tableOf(path: KeyPath): string {
  return path.filter((seg): seg is string => typeof seg === 'string').join('.');
}

function isSecretPath(path: KeyPath): boolean {
  const names = path.filter((seg): seg is string => typeof seg === 'string');
  const key = names.pop();
  return key !== undefined && findKey(names.join('.'), key)?.kind === 'secret';
}

function header(table: string, inScaleSet: boolean): string {
  const parent = table.split('.').slice(0, -1).join('.');
  const name = table.split('.').pop() ?? table;
  const full = inScaleSet ? `scaleset.${table}` : table;
  return findKey(parent, name)?.kind === 'tables' ? `[[${full}]]` : `[${full}]`;
}

export function unknownKeyMessage(table: string, key: string, inScaleSet: boolean): string {
  const renamed = RENAMED[table ? `${table}.${key}` : key];
  if (renamed) return renamed;
  const tables = keysByTable();
  if (inScaleSet && key in daemonShape) {
    return `misplaced: ${key} applies to the whole daemon, so it is only read at the top level, not in [[scaleset]]`;
  }
  if (table !== '' && tables.get('')?.has(key)) {
    // TOML gives no error for this, which is how runscaler's init wrote log-level into [docker].
    const fix = inScaleSet
      ? `it is a [[scaleset]] key: move it up, between [[scaleset]] and the entry's first [scaleset.…] header`
      : 'it is a top-level key: move it above the first [table] header';
    return `misplaced: TOML puts ${key} in ${header(table, inScaleSet)} because it comes after that header; ${fix}`;
  }
  const homes = [...tables].filter(([name, keys]) => name !== table && name !== '' && keys.has(key));
  if (homes.length > 0) {
    return `misplaced: ${key} belongs in ${homes.map(([name]) => header(name, inScaleSet)).join(' or ')}`;
  }
  const guess = closest(key, [...(tables.get(table) ?? [])]);
  const where = table === '' ? (inScaleSet ? '[[scaleset]]' : 'the top level') : header(table, inScaleSet);
  return `unknown key in ${where}${guess ? `; did you mean "${guess}"?` : ''}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  const limit = word.length < 5 ? 1 : 2;
  let best: { word: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d <= limit && (!best || d < best.distance)) best = { word: candidate, distance: d };
  }
  return best?.word;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
