import { BACKENDS, type BackendKind, resolveBackendTables } from '../../backends/index.js';
import { resolveAuth } from './auth.js';
import type { Checker } from './checker.js';
import { normalizeConfigUrl, URL_EXPECTED } from './github-url.js';
import { resolveNetwork } from './resolve-network.js';
import type { ScaleSetSettings } from './schema.js';
import type { ScaleSetConfig } from './types.js';
import { compileWarmSchedule } from './warm-schedule.js';

/**
 * Merged settings of one scale set → the ScaleSetConfig the daemon runs on, with the checks that
 * need more than one key. Returns undefined when something is missing (the problem is recorded);
 * every part is still checked, so all problems of the set are reported together.
 */
export async function resolveScaleSet(
  s: ScaleSetSettings,
  set: number,
  c: Checker,
): Promise<ScaleSetConfig | undefined> {
  const url = s.url === undefined ? undefined : normalizeConfigUrl(s.url);
  if (s.url === undefined) c.problem(set, ['url'], `expected ${URL_EXPECTED}, got nothing`);
  if (s.name === undefined) {
    c.problem(set, ['name'], 'expected a scale set name (jobs use it in runs-on), got nothing');
  }
  if (s['min-runners'] > s['max-runners'] && !c.prov.broken(set, ['max-runners'])) {
    const message = `expected an integer ≤ max-runners (${s['max-runners']}), got ${s['min-runners']}`;
    c.problem(set, ['min-runners'], message);
  }
  // With shapes each shape checks the windows against its own max-runners (shapes.ts).
  if (s.shape.length === 0 && !c.prov.broken(set, ['max-runners'])) {
    s.schedule.forEach((w, i) => {
      if (w['min-runners'] <= s['max-runners']) return;
      const message = `expected an integer ≤ max-runners (${s['max-runners']}), got ${w['min-runners']}`;
      c.problem(set, ['schedule', i, 'min-runners'], message);
    });
  }
  const runnerImage = image(s, set, c);
  const auth = await resolveAuth(s, set, c);
  const network = await resolveNetwork(s, set, c);
  // Each backend resolves its own table (backends/<kind>/config.ts), with paths relative to it.
  const backends = await resolveBackendTables(
    s,
    s.backend,
    (kind) => c.forTable(set, kind),
    s.shape.length > 0,
  );
  if (url === undefined || s.name === undefined || auth === undefined || runnerImage === undefined) {
    return undefined;
  }
  if (backends === undefined || network === undefined) return undefined;
  return {
    index: set,
    url,
    name: s.name,
    auth,
    runnerGroup: s['runner-group'],
    labels: [...new Set(s.labels ?? [s.name])],
    minRunners: s['min-runners'],
    maxRunners: s['max-runners'],
    schedule: compileWarmSchedule(s.schedule),
    backend: s.backend,
    runnerImage,
    idleTimeout: s['idle-timeout'],
    reconcileInterval: s['reconcile-interval'],
    startConcurrency: s['start-concurrency'],
    network,
    runnerEnv: s['runner-env'],
    ...backends,
  };
}

/**
 * The image of the set, if its backend can use it, else the backend's default; a backend without one
 * (Tart) needs it written.
 */
function image(s: ScaleSetSettings, set: number, c: Checker): string | undefined {
  const fallback = BACKENDS[s.backend].runnerImage;
  const written = s['runner-image'];
  if (written !== undefined) {
    const problem = runnerImageProblem(s.backend, written);
    if (problem === undefined) return written;
    c.problem(set, ['runner-image'], problem);
    return undefined;
  }
  if ('default' in fallback) return fallback.default;
  c.problem(set, ['runner-image'], fallback.missing);
  return undefined;
}

/** "expected …, got …" when `backend` cannot use `image` (init asks with the same rule). */
export function runnerImageProblem(backend: BackendKind, image: string): string | undefined {
  const check = BACKENDS[backend].runnerImage.check;
  if (!check || check.valid(image)) return undefined;
  return `expected ${check.expected}, got ${JSON.stringify(image)}`;
}
