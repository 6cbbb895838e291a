import { TomlDate } from 'smol-toml';
import type { KeyPath } from '../schema/location.js';

/** Key paths and values as they appear in messages. */

export type { KeyPath } from '../schema/location.js';

/** A table as TOML makes it: a plain object (smol-toml's have no prototype), not an array or a class. */
export function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/** `["scaleset", 1, "docker", "memory"]` → `scaleset[1].docker.memory`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const bare = /^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg);
      out += out === '' ? bare : `.${bare}`;
    }
  }
  return out;
}

export function getAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (isTable(node) && typeof seg === 'string') node = node[seg];
    else return undefined;
  }
  return node;
}

/** The path up to its first array index: arrays are replaced whole, so that is the unit a layer sets. */
export function unitOf(path: KeyPath): (string | number)[] {
  const i = path.findIndex((seg) => typeof seg === 'number');
  return (i < 0 ? path : path.slice(0, i)) as (string | number)[];
}

const MAX_SHOWN = 80;

/**
 * The "got …" half of a message. Values of secret keys are never shown, except an `env:VAR`
 * reference, which names a variable and not its value.
 */
export function showValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (secret && !(typeof value === 'string' && (value === '' || value.startsWith('env:')))) {
    return `${describeType(value)} (value hidden)`;
  }
  if (typeof value === 'string') return truncate(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof TomlDate || value instanceof Date) return `a date (${value.toISOString()})`;
  if (Array.isArray(value)) return truncate(JSON.stringify(value) ?? 'an array');
  return describeType(value);
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  if (value instanceof Date) return 'a date';
  return `a ${typeof value}`;
}

function truncate(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}
