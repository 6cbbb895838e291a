/** JSON decoding with the tolerances of the Go client (§0, §3.4). */

const BOM = '\uFEFF';

export class JsonDecodeError extends Error {
  override name = 'JsonDecodeError';
}

/** Decodes a response body: a leading UTF-8 BOM is dropped, empty bodies and unsafe integers are rejected. */
export function decodeJson(body: Uint8Array | string): unknown {
  let text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  if (text.startsWith(BOM)) text = text.slice(BOM.length);
  if (text.trim() === '') throw new JsonDecodeError('empty response body');
  try {
    return JSON.parse(text, rejectUnsafeIntegers);
  } catch (err) {
    if (err instanceof JsonDecodeError) throw err;
    throw new JsonDecodeError(`malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * Ids are int64 in Go. A value past 2^53 would round silently to a neighbouring id, and acking or
 * removing the wrong id is worse than failing loudly.
 */
function rejectUnsafeIntegers(key: string, value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new JsonDecodeError(`integer ${key ? `"${key}" ` : ''}out of the safe range: ${value}`);
  }
  return value;
}

/** Strips a BOM only; for bodies that are text, not JSON (error bodies). */
export function bodyText(body: Uint8Array): string {
  const text = Buffer.from(body).toString('utf8');
  return text.startsWith(BOM) ? text.slice(BOM.length) : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Renames keys that match one of `keys` case-insensitively to the canonical spelling and drops the
 * rest, like Go's encoding/json: an exact match wins over a case-folded one.
 */
export function canonicalizeKeys(value: unknown, keys: readonly string[]): unknown {
  if (!isPlainObject(value)) return value;
  const byLower = new Map(keys.map((k) => [k.toLowerCase(), k]));
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
