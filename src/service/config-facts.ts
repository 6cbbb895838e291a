import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import type { BackendKind } from '../config/types.js';
import { parseDuration } from '../schema/units.js';

/**
 * The few config values a service definition depends on. Read leniently and on purpose not through
 * the full loader: at install time the secrets the config points at (env:RUNNER_TOKEN) usually live
 * only in the service's env file, so a full load would fail for the wrong reason. `runner validate`
 * is the place for a real check.
 */
export interface ConfigFacts {
  backends: BackendKind[];
  stateDir?: string;
  drainTimeoutMs?: number;
  tartHome?: string;
}

const BACKENDS: readonly BackendKind[] = ['docker', 'tart', 'dedalus'];

/** Undefined when the file does not exist; throws when it exists but is not TOML. */
export async function readConfigFacts(path: string): Promise<ConfigFacts | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new Error(`cannot read config ${path}: ${code ?? String(err)}; check the path and its permissions`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `${path} is not valid TOML (${(err as Error).message.split('\n')[0]}); fix it, then run \`runner validate --config ${path}\``,
    );
  }
  return factsFrom(doc);
}

export function factsFrom(doc: Record<string, unknown>): ConfigFacts {
  const sets = Array.isArray(doc.scaleset) ? (doc.scaleset as unknown[]).filter(isTable) : [];
  const top = backendOf(doc);
  const backends = new Set<BackendKind>(sets.length === 0 ? [top ?? 'docker'] : []);
  for (const set of sets) backends.add(backendOf(set) ?? top ?? 'docker');
  const tart = [doc, ...sets].map((t) => (isTable(t.tart) ? t.tart.home : undefined)).find(isString);
  const drain = doc['drain-timeout'];
  const drainTimeoutMs =
    typeof drain === 'string' || typeof drain === 'number' ? parseDuration(drain) : undefined;
  return {
    backends: [...backends],
    ...(isString(doc['state-dir']) ? { stateDir: doc['state-dir'] } : {}),
    ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
    ...(tart ? { tartHome: tart } : {}),
  };
}

function backendOf(table: Record<string, unknown>): BackendKind | undefined {
  const b = table.backend;
  return typeof b === 'string' && (BACKENDS as readonly string[]).includes(b)
    ? (b as BackendKind)
    : undefined;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}
