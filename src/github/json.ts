import { RunnerError } from '../kernel/errors.js';

/** JSON decoding with the tolerances of the Go client (§0, §3.4). */

const BOM = '\uFEFF';

export class JsonDecodeError extends RunnerError {
  readonly code = 'INVALID_JSON' as const;
}

/**
 * Decodes a response body: a leading UTF-8 BOM is dropped, empty bodies and malformed JSON are rejected.
 *
 * Integers past 2^53 are not rejected here: a value nobody reads (an unknown field, §0) must not cost a
 * whole response. They are caught where they are read, by the schemas' `int` (wire-schema.ts). That is
 * exact without a reviver: JSON.parse rounds such a literal to the nearest double, and the doubles near
 * an integer past 2^53 − 1 are all at least 2^53 in magnitude, outside the safe range, so a rounded id
 * can never pass for a safe one.
 */
export function decodeJson(body: Uint8Array | string): unknown {
  let text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (text.startsWith(BOM)) text = text.slice(BOM.length);
  if (text.trim() === '') throw new JsonDecodeError('empty response body');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new JsonDecodeError(`malformed JSON: ${(err as Error).message}`);
  }
}

/** Strips a BOM only; for bodies that are text, not JSON (error bodies). */
export function bodyText(body: Uint8Array): string {
  const text = Buffer.from(body).toString('utf8');
  return text.startsWith(BOM) ? text.slice(BOM.length) : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface KeyIndex {
  byLower: Map<string, string>;
  exact: Set<string>;
}

/** Key lists are a schema's, made once: their index is built once too, not per decoded object. */
const indexes = new WeakMap<readonly string[], KeyIndex>();

function keyIndex(keys: readonly string[]): KeyIndex {
  let index = indexes.get(keys);
  if (!index) {
    index = { byLower: new Map(keys.map((k) => [k.toLowerCase(), k])), exact: new Set(keys) };
    indexes.set(keys, index);
  }
  return index;
}

/**
 * Renames keys that match one of `keys` case-insensitively to the canonical spelling and drops the
 * rest, like Go's encoding/json: an exact match wins over a case-folded one.
 */
export function canonicalizeKeys(value: unknown, keys: readonly string[]): unknown {
  if (!isPlainObject(value)) return value;
  const { byLower } = keyIndex(keys);
  const out: Record<string, unknown> = {};
  const exact = new Set<string>();
  for (const [key, v] of Object.entries(value)) {
    const canonical = byLower.get(key.toLowerCase());
    if (canonical === undefined) continue;
    if (key === canonical) {
      exact.add(key);
      out[canonical] = v;
    } else if (!exact.has(canonical)) {
      out[canonical] = v;
    }
  }
  return out;
}

/**
 * `canonicalizeKeys` for a consumer that ignores unknown keys itself (a zod object strips them): an
 * object already spelled canonically, as every real response is, comes back as it is, uncopied.
 */
export function canonicalKeysView(value: unknown, keys: readonly string[]): unknown {
  if (!isPlainObject(value)) return value;
  const { byLower, exact } = keyIndex(keys);
  for (const key in value) {
    if (!exact.has(key) && byLower.has(key.toLowerCase())) return canonicalizeKeys(value, keys);
  }
  return value;
}
