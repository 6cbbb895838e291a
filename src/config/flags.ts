import type { Command } from 'commander';
import { envVarName, findKey } from './keys.js';
import type { OverrideValue } from './overrides.js';

/** The config flags of `runner run` (and friends): each one overrides the top-level key of its name. */
export const FLAG_KEYS = [
  'url',
  'name',
  'token',
  'max-runners',
  'min-runners',
  'labels',
  'runner-group',
  'runner-image',
  'backend',
  'log-level',
  'log-format',
  'health-host',
  'health-port',
  'state-dir',
] as const;

export type FlagKey = (typeof FLAG_KEYS)[number];

/** Parsed flag values keyed by config key: what `loadConfig({ flags })` takes. */
export type ConfigFlags = Partial<Record<FlagKey, OverrideValue>>;

const ARG_NAMES: Partial<Record<FlagKey, string>> = {
  labels: 'a,b,…',
  'max-runners': 'n',
  'min-runners': 'n',
  'health-port': 'port',
  'state-dir': 'dir',
};

const NOTES: Partial<Record<FlagKey, string>> = {
  // argv is readable by every user of the host through ps.
  token: ' Visible to other users in ps: prefer token = "env:VAR" or RUNNER_TOKEN.',
  'max-runners': ' Scale sets that set their own value keep it.',
};

function camel(key: string): string {
  return key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Adds `--config` and one flag per FLAG_KEYS entry. Flags beat environment variables, which beat the
 * file; like those, a flag sets a top-level value, so a `[[scaleset]]` that sets the key keeps its own.
 */
export function addConfigFlags(cmd: Command): Command {
  cmd.option(
    '-c, --config <file>',
    'config file (default: RUNNER_CONFIG, else ./config.toml, else /etc/runner/config.toml)',
  );
  for (const key of FLAG_KEYS) {
    const meta = findKey('', key);
    const description = `${meta?.description ?? key}${NOTES[key] ?? ''} [env ${envVarName(key)}]`;
    cmd.option(`--${key} <${ARG_NAMES[key] ?? 'value'}>`, description);
  }
  return cmd;
}

/** Commander's parsed options (camelCase) as config overrides (kebab-case); `config` is not one. */
export function flagOverrides(opts: Readonly<Record<string, unknown>>): ConfigFlags {
  const out: ConfigFlags = {};
  for (const key of FLAG_KEYS) {
    const value = opts[camel(key)];
    if (isOverrideValue(value)) out[key] = value;
  }
  return out;
}

function isOverrideValue(value: unknown): value is OverrideValue {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
