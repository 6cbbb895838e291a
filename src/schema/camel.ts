/**
 * Config keys are kebab-case (`pull-policy`), code reads camelCase (`pullPolicy`). A resolved table is
 * its schema's output with the keys renamed, at run time and at type level alike, so a key is declared
 * once, in the schema, instead of again in an interface and a hand-written mapper.
 */

/** `"shared-volume-name"` → `"sharedVolumeName"`. */
export type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** The same object type with its own keys camelCased (one level: nested tables are resolved by hand). */
export type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

export function camelCase<S extends string>(key: S): CamelCase<S> {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as CamelCase<S>;
}

/** A copy of `table` with camelCased keys; values are shared, not copied. */
export function camelKeys<T extends Record<string, unknown>>(table: T): CamelKeys<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) out[camelCase(key)] = value;
  return out as CamelKeys<T>;
}
