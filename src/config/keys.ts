import { z } from 'zod';
import { type KeyKind, keyMeta, type TomlDefault } from '../schema/fields.js';
import { daemonShape, fileSchema } from './schema.js';

/** The key list read back from the schema: docs, env names, flags and error hints all use it. */

export interface ConfigKey {
  /** Dotted path, e.g. `docker.memory`; entries of arrays of tables use the array's path (`docker.mounts.target`). */
  path: string;
  /** The table the key is written under: '' for the top level, else e.g. `docker` or `docker.mounts`. */
  table: string;
  key: string;
  kind: KeyKind;
  description: string;
  /** The constant default as TOML (`"30m"`, `10`, `["/home/runner/run.sh"]`). */
  default: string | undefined;
  /** What happens when the key is unset and there is no constant default ("required", "[name]"). */
  defaultNote: string | undefined;
  /** The values a number, duration or size accepts ("1–10000", "1s–1h"). */
  range: string | undefined;
  /** `global`: top level only; `scale-set`: also settable in `[[scaleset]]` (inherited from the top level). */
  scope: 'global' | 'scale-set';
  /** RUNNER_… variable that overrides it, for top-level values. */
  env: string | undefined;
}

/** The object schema inside optional / prefault / array wrappers, if the key holds a table. */
export function tableSchema(schema: z.ZodType): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodPrefault || schema instanceof z.ZodDefault) {
    return tableSchema(schema.def.innerType as z.ZodType);
  }
  if (schema instanceof z.ZodArray) return tableSchema(schema.element as z.ZodType);
  return undefined;
}

export function envVarName(key: string): string {
  return `RUNNER_${key.toUpperCase().replace(/-/g, '_')}`;
}

const KINDS_WITHOUT_ENV: ReadonlySet<KeyKind> = new Set(['table', 'tables', 'map']);

export function renderDefault(value: TomlDefault): string {
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function walk(
  shape: Record<string, z.ZodType>,
  table: string,
  scope: ConfigKey['scope'],
  out: ConfigKey[],
): void {
  for (const [key, schema] of Object.entries(shape)) {
    const meta = keyMeta.get(schema);
    if (!meta) throw new Error(`config key ${table ? `${table}.` : ''}${key} has no description`);
    const keyScope = table === '' && key in daemonShape ? 'global' : scope;
    const path = table ? `${table}.${key}` : key;
    out.push({
      path,
      table,
      key,
      kind: meta.kind,
      description: meta.description,
      default: meta.default === undefined ? undefined : renderDefault(meta.default),
      defaultNote: meta.defaultNote,
      range: meta.range,
      scope: key === 'scaleset' ? 'global' : keyScope,
      env: table === '' && !KINDS_WITHOUT_ENV.has(meta.kind) ? envVarName(key) : undefined,
    });
    const nested = tableSchema(schema);
    // `[[scaleset]]` holds the top-level keys again; listing them twice would say nothing new.
    if (nested && key !== 'scaleset') walk(nested.shape as Record<string, z.ZodType>, path, keyScope, out);
  }
}

let cache: readonly ConfigKey[] | undefined;

/** Every key the config file accepts, in schema order. */
export function configKeys(): readonly ConfigKey[] {
  if (!cache) {
    const out: ConfigKey[] = [];
    walk(fileSchema.shape as Record<string, z.ZodType>, '', 'scale-set', out);
    cache = Object.freeze(out);
  }
  return cache;
}

/** Keys by table ('' = top level), for "did you mean" and "belongs in [docker]" hints. */
export function keysByTable(): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  for (const k of configKeys()) {
    const set = tables.get(k.table) ?? new Set<string>();
    set.add(k.key);
    tables.set(k.table, set);
  }
  return tables;
}

export function findKey(table: string, key: string): ConfigKey | undefined {
  return configKeys().find((k) => k.table === table && k.key === key);
}
