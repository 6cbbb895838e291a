import type { z } from 'zod';
import { SecretRef } from '../schema/secret-ref.js';
import type { ConfigProblem } from './errors.js';
import { type IssueContext, issueProblems } from './issues.js';
import { isTable, type KeyPath, unitOf } from './paths.js';

/**
 * One source of settings (the top level of the file, one `[[scaleset]]`, the environment, the
 * flags), validated on its own so every message points at the place to fix. `value` holds only the
 * keys the source actually wrote: defaults come from a layer of their own, which is what lets an
 * explicit 0 or false override an inherited value.
 */
export interface Layer {
  value: Record<string, unknown>;
  /** Dotted paths whose values were rejected; checks across keys skip them to avoid echo errors. */
  broken: Set<string>;
}

const MAX_PASSES = 8;

/**
 * Validates `raw` against `schema`. zod returns no data when any key fails, so rejected keys are
 * dropped and the rest parsed again: one bad value must not hide the problems of the others.
 */
export function parseLayer(
  schema: z.ZodObject,
  raw: Record<string, unknown>,
  ctx: Omit<IssueContext, 'raw'>,
  problems: ConfigProblem[],
): Layer {
  const input = copyTree(raw) as Record<string, unknown>;
  const broken = new Set<string>();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const result = schema.safeParse(input);
    if (result.success) {
      return { value: pickWritten(result.data as Record<string, unknown>, input, [], ctx.locate), broken };
    }
    let removed = 0;
    const found: { path: KeyPath; problem: ConfigProblem }[] = [];
    for (const issue of result.error.issues) {
      const path = issue.path as KeyPath;
      const keyPaths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...path, k]) : [path];
      issueProblems(issue, { ...ctx, raw }).forEach((problem, i) => {
        found.push({ path: keyPaths[i] ?? path, problem });
      });
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) removed += removeAt(input, [...path, key]);
      } else {
        const unit = unitOf(path);
        broken.add(unit.join('.'));
        removed += removeAt(input, unit);
      }
    }
    // zod reports nested tables before the keys around them; people read a file top to bottom.
    found.sort((a, b) => compareRanks(documentRank(raw, a.path), documentRank(raw, b.path)));
    problems.push(...found.map((f) => f.problem));
    if (removed === 0) break;
  }
  return { value: {}, broken };
}

/** The parsed values of the keys present in `written`, recursing into tables; secrets learn where they were written. */
function pickWritten(
  parsed: Record<string, unknown>,
  written: Record<string, unknown>,
  path: KeyPath,
  locate: IssueContext['locate'],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, input] of Object.entries(written)) {
    if (!(key in parsed)) continue;
    const value = parsed[key];
    if (value instanceof SecretRef) value.origin = locate([...path, key]);
    out[key] = isTable(value) && isTable(input) ? pickWritten(value, input, [...path, key], locate) : value;
  }
  return out;
}

function removeAt(root: Record<string, unknown>, path: KeyPath): number {
  if (path.length === 0) return 0;
  let node: unknown = root;
  for (const seg of path.slice(0, -1)) {
    node =
      Array.isArray(node) && typeof seg === 'number'
        ? node[seg]
        : isTable(node)
          ? node[String(seg)]
          : undefined;
  }
  const last = path[path.length - 1] as string | number;
  if (isTable(node) && String(last) in node) {
    delete node[String(last)];
    return 1;
  }
  return 0;
}

/** Position of each path segment among its siblings in the input: TOML parsers keep document order. */
function documentRank(root: unknown, path: KeyPath): number[] {
  const rank: number[] = [];
  let node = root;
  for (const seg of path) {
    if (typeof seg === 'number') {
      rank.push(seg);
      node = Array.isArray(node) ? node[seg] : undefined;
    } else {
      const keys = isTable(node) ? Object.keys(node) : [];
      const i = keys.indexOf(seg);
      rank.push(i < 0 ? keys.length : i);
      node = isTable(node) ? node[seg] : undefined;
    }
  }
  return rank;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function copyTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyTree);
  if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyTree(v)]));
  return value;
}
