import type { NetworkConfig } from '../net/types.js';
import { SecretRef } from '../schema/secret-ref.js';
import { Checker } from './checker.js';
import { checkAcrossSets, checkShapeNames } from './cross-checks.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import type { ConfigFlags } from './flags.js';
import { type Layer, parseLayer } from './layer.js';
import { hasGitHubApp, mergeSettings } from './merge.js';
import { envOverrides, keyedOverrides } from './overrides.js';
import { isTable, showValue } from './paths.js';
import { inEnv, inFile, inFlag, Provenance } from './provenance.js';
import { type Identity, resolveDaemon } from './resolve-daemon.js';
import { resolveNetwork } from './resolve-network.js';
import { resolveScaleSet } from './resolve-set.js';
import {
  daemonShape,
  type GlobalSettings,
  globalTable,
  type ScaleSetSettings,
  scaleSetTable,
} from './schema.js';
import { expandShapes } from './shapes.js';
import type { DaemonConfig, RunnerConfig } from './types.js';

export interface AssembleOptions {
  /** The config file's name for messages ('' when there is none). */
  file: string;
  env: NodeJS.ProcessEnv;
  flags: ConfigFlags;
  readFile(path: string): Promise<string>;
  cwd: string;
  identity: Identity;
}

/**
 * Parsed TOML + environment + flags → RunnerConfig. Precedence, lowest first: defaults, the file's
 * top level, RUNNER_* variables, flags; each `[[scaleset]]` then overrides that result for itself.
 * Every problem is collected before anything is thrown.
 */
export async function assemble(raw: Record<string, unknown>, o: AssembleOptions): Promise<RunnerConfig> {
  const { problems, top, fileTop, sets, checker, daemon } = assembleLayers(raw, o);
  const settings: ScaleSetSettings[] =
    sets.length === 0 ? [top] : sets.map((layer) => mergeSettings(scaleSetPart(top), layer.value));
  const resolved = await Promise.all(settings.map((s, i) => resolveScaleSet(s, i, checker)));
  // A set with job shapes stands for one scale set per shape (src/config/shapes.ts).
  const scaleSets = resolved.flatMap((set, i) =>
    set === undefined ? [] : expandShapes(set, settings[i] as ScaleSetSettings, checker),
  );
  if (sets.length > 0) checkAcrossSets(settings, checker);
  if (scaleSets.some((s) => s.shape)) checkShapeNames(scaleSets, checker);

  const all = [...problems, ...checker.problems];
  if (all.length > 0) throw new ConfigError(all);
  const fileSecrets = [fileTop, ...sets].flatMap((layer) => literalSecrets(layer.value));
  return { ...daemon, fileSecrets, scaleSets };
}

/**
 * Only the daemon-wide part (health server, state dir, logging), for commands that talk to a running
 * daemon rather than run one (`runner status`). The whole file is still parsed, so a typo anywhere is
 * reported, but no scale set is resolved: their secrets (RUNNER_TOKEN, App keys, API keys) and files
 * are neither needed nor read.
 */
export function assembleDaemon(raw: Record<string, unknown>, o: AssembleOptions): DaemonConfig {
  const { problems, checker, daemon } = assembleLayers(raw, o);
  const all = [...problems, ...checker.problems];
  if (all.length > 0) throw new ConfigError(all);
  return daemon;
}

/**
 * Only the top level's network keys (`proxy`, `no-proxy`, `ca-file`, …) with the environment, for
 * `runner update`, which has no scale set: like `assembleDaemon`, no scale set is resolved.
 */
export async function assembleNetwork(
  raw: Record<string, unknown>,
  o: AssembleOptions,
): Promise<NetworkConfig> {
  const { problems, top, checker } = assembleLayers(raw, o);
  const network = await resolveNetwork(top, undefined, checker);
  const all = [...problems, ...checker.problems];
  if (all.length > 0 || network === undefined) throw new ConfigError(all);
  return network;
}

/** Every layer parsed, the top level merged, and the daemon-wide keys resolved. */
function assembleLayers(raw: Record<string, unknown>, o: AssembleOptions) {
  const problems: ConfigProblem[] = [];
  const { scaleset: rawSets, ...rawTop } = raw;
  const topLevel = { locate: inFile(o.file), inScaleSet: false };
  const fileTop = parseLayer(globalTable, rawTop, topLevel, problems);
  const envValues = envOverrides(o.env);
  // RUNNER_TOKEN is the fallback credential: it beats a token in the file, never an App the file chose.
  if (hasGitHubApp(fileTop.value)) delete envValues.token;
  const env = parseLayer(globalTable, envValues, { locate: inEnv, inScaleSet: false }, problems);
  const flags = parseLayer(
    globalTable,
    keyedOverrides(o.flags),
    { locate: inFlag, inScaleSet: false },
    problems,
  );
  const sets = scaleSetLayers(rawSets, o.file, problems);

  let top = globalTable.parse({}) as GlobalSettings;
  for (const layer of [fileTop, env, flags]) top = mergeSettings(top, layer.value);

  const checker = new Checker(new Provenance({ file: o.file, fileTop, env, flags, sets }), {
    env: o.env,
    readFile: o.readFile,
    cwd: o.cwd,
    home: o.identity.home,
  });
  const daemon = resolveDaemon(top, o.file, checker, o.identity);
  return { problems, top, fileTop, sets, checker, daemon };
}

/**
 * The keys of the secrets written literally (not `env:VAR`) in a layer of the file, where the file
 * wrote them: the file then holds a secret, and who can read it matters. Counted even when a flag or
 * variable overrides the value, since the file holds it all the same.
 */
function literalSecrets(value: unknown): string[] {
  if (value instanceof SecretRef) {
    return value.literal !== undefined && value.origin?.source.kind === 'file' ? [value.origin.key] : [];
  }
  if (Array.isArray(value)) return value.flatMap(literalSecrets);
  if (isTable(value)) return Object.values(value).flatMap(literalSecrets);
  return [];
}

/** `[[scaleset]]` entries, each validated as a layer of its own; without any, the top level is the one scale set. */
function scaleSetLayers(raw: unknown, file: string, problems: ConfigProblem[]): Layer[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every(isTable)) {
    const message = `expected an array of tables ([[scaleset]]), got ${showValue(raw)}`;
    problems.push({ ...inFile(file)(['scaleset']), message });
    return [];
  }
  const entry = (i: number) => ({ locate: inFile(file, ['scaleset', i]), inScaleSet: true });
  return raw.map((table, i) => parseLayer(scaleSetTable, table, entry(i), problems));
}

/** The inherited part of the top level: every key but the daemon-wide ones. */
function scaleSetPart(top: GlobalSettings): ScaleSetSettings {
  return Object.fromEntries(Object.entries(top).filter(([key]) => !(key in daemonShape))) as ScaleSetSettings;
}
