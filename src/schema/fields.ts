import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { isValidSecretText, SecretRef } from './secret-ref.js';
import { formatDuration, formatSize, parseDuration, parseSize } from './units.js';

/**
 * Building blocks for config schemas: the loader's own keys and each backend's table. Every key is
 * declared once, with its type, default and description, through the wrappers at the bottom; the key
 * list for docs, env variables and flags is read back from `keyMeta`. Each field's zod error is the
 * "expected …" half of a message, and the loader adds where and "got …" (src/config/issues.ts).
 */

export type KeyKind =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'list'
  | 'duration'
  | 'size'
  | 'secret'
  | 'table'
  | 'map'
  | 'tables';

/** A default as a user would write it in TOML. */
export type TomlDefault = string | number | boolean | string[];

export interface KeyMeta {
  kind: KeyKind;
  /** One line: what the key is for. */
  description: string;
  /** The constant default, in TOML form. */
  default?: TomlDefault;
  /** A default that depends on other values (documentation only). */
  defaultNote?: string;
  /** The values a number, duration or size accepts, for the reference ("1–10000", "1s–1h"). */
  range?: string;
}

export const keyMeta = z.registry<KeyMeta>();

export interface Spec<T extends z.ZodType> {
  schema: T;
  kind: KeyKind;
  range?: string;
}

/**
 * Every number, duration and size has an upper bound (its builder requires one): a value no one can
 * mean (`max-runners = 1000000000`, `idle-timeout = "99999999d"`) is a typo or a unit mistake, and
 * accepting it turns a config error into a host brought down, a timer that fires at once, or a runner
 * that is never recycled. The bounds are generous for a demanding user and documented per key.
 */

/** 24 days: setTimeout fires at once above 2^31-1 ms (~24.8 d), with only a warning, so timers stay below. */
export const TIMER_MAX_MS = 24 * 86_400_000;

/** The longest age a key compares against (image caches, machine recycling): a year. */
export const AGE_MAX_MS = 365 * 86_400_000;

/**
 * The most runners, VMs or machines one scale set may count: far beyond one host (a Docker engine
 * struggles past a few hundred containers), still a fleet for a cloud backend, and small enough that
 * a stray digit is caught.
 */
export const RUNNERS_MAX = 10_000;

/** 1 TiB: the largest memory limit per runner, above any single runner a host or plan offers today. */
export const MEMORY_MAX_BYTES = 1024 ** 4;

export function int(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  const schema = z.int({ error: expected }).min(min).max(max);
  return { schema, kind: 'integer', range: `${min}–${max}` } satisfies Spec<z.ZodType>;
}

/** A numeric id (GitHub App and installation ids): any positive safe integer, since it names rather than counts. */
export function id() {
  const schema = z.int({ error: 'a positive integer id' }).min(1);
  return { schema, kind: 'integer', range: 'an id ≥ 1' } satisfies Spec<z.ZodType>;
}

export function num(opts: {
  min: number;
  max: number;
  exclusiveMin?: boolean;
  step?: number;
  expected: string;
}) {
  const expected = `${opts.expected}, at most ${opts.max}`;
  let schema = z.number({ error: expected });
  schema = opts.exclusiveMin ? schema.gt(opts.min) : schema.gte(opts.min);
  schema = schema.lte(opts.max);
  if (opts.step !== undefined) schema = schema.multipleOf(opts.step);
  const range = opts.exclusiveMin ? `> ${opts.min}, ≤ ${opts.max}` : `${opts.min}–${opts.max}`;
  return { schema, kind: 'number', range } satisfies Spec<z.ZodType>;
}

export function str(opts: { expected?: string; check?: (s: string) => boolean } = {}) {
  const expected = opts.expected ?? 'a string';
  const check = opts.check;
  const schema = z.string({ error: expected });
  return { schema: check ? schema.refine(check) : schema, kind: 'string' } satisfies Spec<z.ZodType>;
}

export function text(expected = 'a non-empty string') {
  return str({ expected, check: (s) => s.trim().length > 0 });
}

export function bool() {
  return { schema: z.boolean({ error: 'true or false' }), kind: 'boolean' } satisfies Spec<z.ZodType>;
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const expected = `one of ${values.map((v) => `"${v}"`).join(', ')}`;
  return { schema: z.enum(values, { error: expected }), kind: 'string' } satisfies Spec<z.ZodType>;
}

export function list(expected = 'an array of non-empty strings', minItems = 0) {
  const item = z.string({ error: 'a non-empty string' }).refine((s) => s.trim().length > 0);
  const schema = z.array(item, { error: expected }).min(minItems);
  return { schema, kind: 'list' } satisfies Spec<z.ZodType>;
}

export function duration(opts: { min?: number; max: number }) {
  const min = opts.min ?? 0;
  const max = opts.max;
  const range = `${formatDuration(min)}–${formatDuration(max)}`;
  const expected = `a duration like "30s", "5m", "1h30m" or "7d", or a number of seconds from ${formatDuration(min)} to ${formatDuration(max)}`;
  const schema = z.union([z.string(), z.number()], { error: expected }).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return ms;
  });
  return { schema, kind: 'duration', range } satisfies Spec<z.ZodType>;
}

/**
 * A size in `unit`; 0 means "none" (no limit, the image's own), so it is allowed below `minBytes` —
 * unless `noZero`, for a size that is an amount rather than a limit (a host's memory budget).
 */
export function size(
  unit: 'bytes' | 'MiB',
  opts: { minBytes?: number; maxBytes: number; hint?: string; noZero?: boolean },
) {
  const minBytes = opts.minBytes ?? 0;
  const zero = !opts.noZero;
  const bounds = !zero
    ? `from ${formatSize(Math.max(minBytes, 1))} to ${formatSize(opts.maxBytes)}`
    : minBytes > 0
      ? `0 or from ${formatSize(minBytes)} to ${formatSize(opts.maxBytes)}`
      : `up to ${formatSize(opts.maxBytes)}`;
  const expected = `a size like "512m", "8g" or "4GiB", or a number of ${unit}, ${bounds}${opts.hint ?? ''}`;
  const schema = z.union([z.string(), z.number()], { error: expected }).transform((v, ctx) => {
    const value = parseSize(v, unit);
    const bytes = (value ?? 0) * (unit === 'MiB' ? 1024 ** 2 : 1);
    // A small non-zero value is almost always a unit mistake; a huge one, a typo.
    const tooSmall = bytes === 0 ? !zero : bytes < minBytes;
    if (value === undefined || tooSmall || bytes > opts.maxBytes) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return value;
  });
  const range = !zero
    ? `${formatSize(Math.max(minBytes, 1))}–${formatSize(opts.maxBytes)}`
    : minBytes > 0
      ? `0, ${formatSize(minBytes)}–${formatSize(opts.maxBytes)}`
      : `0–${formatSize(opts.maxBytes)}`;
  return { schema, kind: 'size', range } satisfies Spec<z.ZodType>;
}

export function secret() {
  const expected = 'a non-empty string, or "env:VAR" to read it from the environment';
  const schema = z
    .string({ error: expected })
    .refine(isValidSecretText)
    .transform((t) => new SecretRef(t));
  return { schema, kind: 'secret' } satisfies Spec<z.ZodType>;
}

function tag<T extends z.ZodType>(schema: T, meta: KeyMeta): T {
  keyMeta.add(schema as z.ZodType, meta);
  return schema;
}

/** A key without a constant default: absent unless some layer sets it. */
export function optional<T extends z.ZodType>(spec: Spec<T>, description: string, defaultNote?: string) {
  const meta: KeyMeta = withRange({ kind: spec.kind, description }, spec);
  if (defaultNote !== undefined) meta.defaultNote = defaultNote;
  return tag(spec.schema.optional(), meta);
}

function withRange(meta: KeyMeta, spec: Spec<z.ZodType>): KeyMeta {
  return spec.range === undefined ? meta : { ...meta, range: spec.range };
}

/** A key with a constant default, written as the user would write it. */
export function defaulted<T extends z.ZodType>(
  spec: Spec<T>,
  value: z.input<T> & TomlDefault,
  description: string,
) {
  const schema = spec.schema.prefault(value as z.util.NoUndefined<z.input<T>>);
  return tag(schema, withRange({ kind: spec.kind, description, default: value }, spec));
}

/** A key that must be present, for the entries of arrays of tables (`[[docker.mounts]]`). */
export function required<T extends z.ZodType>(spec: Spec<T>, description: string) {
  return tag(spec.schema, withRange({ kind: spec.kind, description }, spec));
}

export function table<S extends z.core.$ZodLooseShape>(header: string, shape: S) {
  return z.strictObject(shape, { error: `a table (${header})` });
}

/** A nested table every scale set has, filled with defaults when absent (`[docker]`). */
export function subTable<T extends z.ZodObject>(schema: T, description: string) {
  return tag(schema.prefault({} as z.util.NoUndefined<z.input<T>>), { kind: 'table', description });
}

/** A nested table that only exists when written (`[github-app]`). */
export function optionalTable<T extends z.ZodObject>(schema: T, description: string) {
  return tag(schema.optional(), { kind: 'table', description });
}

/** An array of tables (`[[docker.mounts]]`), empty by default. */
export function tables<T extends z.ZodObject>(header: string, schema: T, description: string) {
  const array = z.array(schema, { error: `an array of tables (${header})` }).prefault([]);
  return tag(array, { kind: 'tables', description });
}

/** A table of string values with free-form keys (`[docker.env]`). */
export function stringMap(keyCheck: (k: string) => boolean, expectedKey: string, description: string) {
  const value = z.string({ error: 'a string' });
  const schema = z
    .record(z.string().refine(keyCheck, { error: expectedKey }), value, { error: 'a table of strings' })
    .prefault({});
  return tag(schema, { kind: 'map', description });
}

/** An absolute path; `what` says where it lives ("in the VM", "inside the container"). */
export function absolutePath(what: string) {
  return str({ expected: `an absolute path (${what})`, check: (s) => isAbsolute(s) });
}
