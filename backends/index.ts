import type { z } from 'zod';
import type { CheckResult } from '../src/checks/result.js';
import type { TableChecker } from '../src/schema/checker.js';
import { dedalusBackend } from './dedalus/module.js';
import { dockerBackend } from './docker/module.js';
import type {
  BackendInventory,
  BackendModule,
  BackendSetup,
  CheckOptions,
  ShapeRefusal,
  ShapeSize,
} from './module.js';
import { tartBackend } from './tart/module.js';
import type { BackendContext, RunnerBackend } from './types.js';

/**
 * The registry of backends, and the only door into them for the config loader, validate, doctor and
 * the daemon. Each entry is a light module object (backends/<kind>/module.ts): its schema and config
 * resolution load with the config, its implementation only when a scale set uses it.
 */

export { backendContext } from './context.js';
export { DOCKER_DEFAULT_IMAGE } from './docker/config.js';
export type {
  BackendInventory,
  BackendModule,
  BackendSetup,
  CheckOptions,
  SetTable,
  ShapeRefusal,
  ShapeSize,
} from './module.js';

/** In the order the config reference lists their tables. */
export const BACKENDS = { docker: dockerBackend, tart: tartBackend, dedalus: dedalusBackend } as const;

type Modules = typeof BACKENDS;
export type BackendKind = keyof Modules;
export const BACKEND_KINDS = Object.keys(BACKENDS) as [BackendKind, ...BackendKind[]];

/** The resolved config of each backend, e.g. `BackendConfigs['docker']` is DockerConfig. */
export type BackendConfigs = {
  [K in BackendKind]: Modules[K] extends BackendModule<K, infer C, z.ZodObject> ? C : never;
};
/** The parsed (not yet resolved) `[<kind>]` tables of one scale set. */
export type BackendTables = { [K in BackendKind]: z.output<Modules[K]['schema']> };

/** What the registry needs of a resolved scale set (src/config's ScaleSetConfig is one). */
export type ScaleSetBackends = BackendConfigs & { name: string; backend: BackendKind; runnerImage: string };

/**
 * The registry seen through each kind's config type, so a lookup by a generic kind keeps the module and
 * its config correlated (TypeScript cannot do that with the union of the modules themselves).
 */
const BY_KIND: { [K in BackendKind]: BackendModule<K, BackendConfigs[K]> } = BACKENDS;

function moduleOf<K extends BackendKind>(kind: K): BackendModule<K, BackendConfigs[K]> {
  return BY_KIND[kind];
}

function setupOf<K extends BackendKind>(kind: K, set: ScaleSetBackends): BackendSetup<BackendConfigs[K]> {
  return { scaleSet: set.name, runnerImage: set.runnerImage, config: set[kind] };
}

/** The backend of one scale set; its implementation is imported now if it was not yet. */
export function createBackend(set: ScaleSetBackends, ctx: BackendContext): Promise<RunnerBackend> {
  return moduleOf(set.backend).create(ctx, setupOf(set.backend, set));
}

/** The `runner validate` rows of the scale set's backend. */
export function backendChecks(set: ScaleSetBackends, opts: CheckOptions): Promise<CheckResult[]> {
  return moduleOf(set.backend).validate(setupOf(set.backend, set), opts);
}

/**
 * The scale set's backend config for a runner of `size` (a job shape), or why its backend cannot give
 * one; a backend without the hook takes no shapes.
 */
export function shapedBackend<K extends BackendKind>(
  kind: K,
  config: BackendConfigs[K],
  size: ShapeSize,
): BackendConfigs[K] | ShapeRefusal {
  const shaped = moduleOf(kind).shaped;
  if (!shaped) return { refused: 'cpu', expected: `no shapes for ${kind}` };
  return shaped(config, size);
}

/** What `runner doctor` lists and removes through for one scale set. */
export function openInventory(set: ScaleSetBackends, ctx: BackendContext): Promise<BackendInventory> {
  return moduleOf(set.backend).inventory(ctx, setupOf(set.backend, set));
}

/**
 * Every backend table of one scale set, resolved. Each table is resolved whatever backend the set uses
 * (a mistake in an unused table is still reported), all in one pass before any of them is awaited, so
 * problems come out in table order. Undefined when any table had a problem.
 */
export async function resolveBackendTables(
  tables: BackendTables,
  backend: BackendKind,
  checkerFor: (kind: BackendKind) => TableChecker,
  shapes = false,
): Promise<BackendConfigs | undefined> {
  const pending = BACKEND_KINDS.map((kind) => {
    const mod: BackendModule = BY_KIND[kind];
    return mod.resolve(tables[kind], { used: backend === kind, check: checkerFor(kind), shapes });
  });
  const resolved = await Promise.all(pending);
  if (resolved.includes(undefined)) return undefined;
  return Object.fromEntries(BACKEND_KINDS.map((kind, i) => [kind, resolved[i]])) as BackendConfigs;
}

/**
 * Each backend's `alternatives` for one layer of settings: a key `over` writes in a backend table
 * replaces its alternative inherited in `below`, which goes back to its default (so a scale set with
 * its own `[[docker.hosts]]` does not also carry the top level's `[docker] host`). Returns `below`
 * with those keys reset; `below` itself is not changed.
 */
export function replaceAlternatives(
  below: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  let out = below;
  for (const kind of BACKEND_KINDS) {
    const mod: BackendModule = BY_KIND[kind];
    const written = over[kind];
    const inherited = out[kind];
    if (!mod.alternatives || !isPlainTable(written) || !isPlainTable(inherited)) continue;
    const reset: Record<string, unknown> = { ...inherited };
    for (const [a, b] of mod.alternatives) {
      for (const [key, other] of [
        [a, b],
        [b, a],
      ] as const) {
        const schema = mod.schema.shape[other] as z.ZodType | undefined;
        if (key in written && other in reset && schema) reset[other] = schema.parse(undefined);
      }
    }
    out = { ...out, [kind]: reset };
  }
  return out;
}

function isPlainTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The checks across scale sets of each backend, given the sets that use it. */
export function checkBackendsAcrossSets(
  sets: readonly { index: number; backend: BackendKind; tables: BackendTables }[],
  checkerFor: (index: number, kind: BackendKind) => TableChecker,
): void {
  for (const kind of BACKEND_KINDS) {
    const mod: BackendModule = BY_KIND[kind];
    if (!mod.checkAcrossSets) continue;
    const using = sets.filter((s) => s.backend === kind);
    mod.checkAcrossSets(
      using.map((s) => ({ index: s.index, table: s.tables[kind], check: checkerFor(s.index, kind) })),
    );
  }
}
