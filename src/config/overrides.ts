import type { KeyKind } from '../schema/fields.js';
import { configKeys } from './keys.js';

/**
 * Environment variables and flags as a layer of top-level values. Both arrive as strings; they are
 * turned into the TOML type of their key here and then validated by the same schema as the file, so
 * `RUNNER_MAX_RUNNERS=abc` fails exactly like `max-runners = "abc"` would.
 */

export type OverrideValue = string | number | boolean | readonly string[];

/** Top-level keys that can be overridden, with their kind. */
function overridableKinds(): Map<string, KeyKind> {
  return new Map(configKeys().flatMap((k) => (k.env ? [[k.key, k.kind] as const] : [])));
}

/** A string from the environment or the command line, as the TOML value it stands for. */
export function coerce(kind: KeyKind, value: OverrideValue): unknown {
  if (typeof value !== 'string') return value;
  switch (kind) {
    case 'integer':
    case 'number':
      // Left as a string when it is not a number, so the schema reports it with the key's wording.
      return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    case 'boolean': {
      const v = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      return value;
    }
    case 'list':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    default:
      return value;
  }
}

/**
 * `RUNNER_<KEY>` for every top-level key (upper snake case: RUNNER_MAX_RUNNERS). An empty variable
 * counts as unset, as a blank line in a systemd EnvironmentFile should.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of configKeys()) {
    if (!k.env) continue;
    // Inside a GitHub Actions job the runner itself sets RUNNER_NAME (and RUNNER_*-looking variables);
    // read there, it would silently rename the scale set. Use --name or the file instead.
    if (k.env === 'RUNNER_NAME' && env.GITHUB_ACTIONS === 'true') continue;
    const value = env[k.env];
    if (value !== undefined && value !== '') out[k.key] = coerce(k.kind, value);
  }
  return out;
}

/** Override values keyed by config key (`max-runners`), e.g. from `flagOverrides()`. */
export function keyedOverrides(
  values: Readonly<Record<string, OverrideValue | undefined>>,
): Record<string, unknown> {
  const kinds = overridableKinds();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const kind = kinds.get(key);
    if (kind !== undefined && value !== undefined) out[key] = coerce(kind, value);
  }
  return out;
}
