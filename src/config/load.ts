import { readFile as fsReadFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { NetworkConfig } from '../net/types.js';
import { type AssembleOptions, assemble, assembleDaemon, assembleNetwork } from './assemble.js';
import { ConfigError } from './errors.js';
import type { ConfigFlags } from './flags.js';
import type { Identity } from './resolve-daemon.js';
import type { DaemonConfig, RunnerConfig } from './types.js';

/** Where the config file is looked for when neither --config nor RUNNER_CONFIG names one, in order. */
export const CONFIG_SEARCH_PATH = ['./config.toml', '/etc/runner/config.toml'] as const;

export interface LoadConfigOptions {
  /** The config file (`--config`); without it RUNNER_CONFIG, then CONFIG_SEARCH_PATH. */
  file?: string;
  /** Defaults to process.env. Also the source of `env:VAR` secrets. */
  env?: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** For tests; reads the config file, private keys and provision scripts. */
  readFile?: (path: string) => Promise<string>;
  cwd?: string;
  /** Who runs the daemon, for the default state-dir. */
  identity?: Identity;
}

const readUtf8 = (path: string): Promise<string> => fsReadFile(path, 'utf8');

function currentIdentity(): Identity {
  return { uid: process.getuid?.() ?? -1, home: homedir() };
}

/**
 * Reads, merges and validates the configuration. Precedence: flags > RUNNER_* environment > file >
 * defaults. Throws ConfigError (code CONFIG_INVALID) listing every problem found.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Promise<RunnerConfig> {
  return load(opts, assemble);
}

/**
 * The daemon-wide part only, found and layered exactly as `loadConfig` does, without resolving any
 * scale set: `runner status` reads the health server's address and token this way, so a shell without
 * the daemon's RUNNER_TOKEN can still ask it.
 */
export function loadDaemonConfig(opts: LoadConfigOptions = {}): Promise<DaemonConfig> {
  return load(opts, async (raw, o) => assembleDaemon(raw, o));
}

/**
 * The top level's network settings (proxy, CA), found and layered as `loadConfig` does: what
 * `runner update` downloads with. Without a config file, the environment alone decides.
 */
export function loadNetworkConfig(opts: LoadConfigOptions = {}): Promise<NetworkConfig> {
  return load(opts, assembleNetwork);
}

async function load<T>(
  opts: LoadConfigOptions,
  build: (raw: Record<string, unknown>, o: AssembleOptions) => Promise<T>,
): Promise<T> {
  const env = opts.env ?? process.env;
  const readFile = opts.readFile ?? readUtf8;
  const cwd = opts.cwd ?? process.cwd();
  const found = await findConfigFile(opts.file ?? emptyToUndefined(env.RUNNER_CONFIG), readFile, cwd);
  const name = found?.name ?? '';
  const parsing = (async () =>
    build(parseToml(found?.text ?? '', name), {
      file: name,
      env,
      flags: opts.flags ?? {},
      readFile,
      cwd,
      identity: opts.identity ?? currentIdentity(),
    }))();
  if (found) return parsing;
  // Running without a file is legal (env and flags can say everything), but when that fails the
  // likelier story is a file in the wrong place: say where we looked.
  return parsing.catch((err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    const message = `no config file found (looked for ${CONFIG_SEARCH_PATH.join(' and ')}; use --config or RUNNER_CONFIG)`;
    throw new ConfigError([{ source: { kind: 'file', file: '' }, key: '', message }, ...err.problems]);
  });
}

/**
 * The core of loadConfig without the file search: TOML text (possibly '') plus environment and flags.
 * `env` defaults to an empty environment, so tests say exactly what they set.
 */
export async function parseConfigText(
  text: string,
  fileName: string,
  env: NodeJS.ProcessEnv = {},
  flags: ConfigFlags = {},
  opts: Pick<LoadConfigOptions, 'readFile' | 'cwd' | 'identity'> = {},
): Promise<RunnerConfig> {
  return assemble(parseToml(text, fileName), {
    file: fileName,
    env,
    flags,
    readFile: opts.readFile ?? readUtf8,
    cwd: opts.cwd ?? process.cwd(),
    identity: opts.identity ?? currentIdentity(),
  });
}

function parseToml(text: string, fileName: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message ends with a code excerpt; the first line plus line:column is enough.
    const reason = err.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? err.message;
    throw new ConfigError([
      {
        source: { kind: 'file', file: fileName, line: err.line, column: err.column },
        key: '',
        message: `invalid TOML: ${reason}`,
      },
    ]);
  }
}

/**
 * An explicit file must exist. Searched files may be missing (then the next is tried, and with none
 * at all env and flags must say everything), but one that exists and cannot be read is an error,
 * not a reason to silently run on defaults.
 */
async function findConfigFile(
  explicit: string | undefined,
  readFile: (path: string) => Promise<string>,
  cwd: string,
): Promise<{ name: string; text: string } | undefined> {
  const candidates = explicit === undefined ? CONFIG_SEARCH_PATH : [explicit];
  for (const name of candidates) {
    try {
      return { name, text: await readFile(resolve(cwd, name)) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && explicit === undefined) continue;
      const reason = code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
      throw new ConfigError([
        { source: { kind: 'file', file: name }, key: '', message: `cannot read the config file: ${reason}` },
      ]);
    }
  }
  return undefined;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
