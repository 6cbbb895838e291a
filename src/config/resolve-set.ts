import { resolveAuth } from './auth.js';
import type { Checker } from './checker.js';
import { normalizeConfigUrl, URL_EXPECTED } from './github-url.js';
import { dedalusConfig, dockerConfig, tartConfig } from './resolve-backends.js';
import { DOCKER_DEFAULT_IMAGE, type ScaleSetSettings } from './schema.js';
import type { ScaleSetConfig } from './types.js';

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
  const runnerImage = image(s, set, c);
  const auth = await resolveAuth(s, set, c);
  const docker = dockerConfig(s, set, c);
  const tart = tartConfig(s, set, c);
  const dedalus = await dedalusConfig(s, set, c);
  if (url === undefined || s.name === undefined || auth === undefined || runnerImage === undefined) {
    return undefined;
  }
  if (docker === undefined || dedalus === undefined) return undefined;
  return {
    index: set,
    url,
    name: s.name,
    auth,
    runnerGroup: s['runner-group'],
    labels: [...new Set(s.labels ?? [s.name])],
    minRunners: s['min-runners'],
    maxRunners: s['max-runners'],
    backend: s.backend,
    runnerImage,
    idleTimeout: s['idle-timeout'],
    reconcileInterval: s['reconcile-interval'],
    startConcurrency: s['start-concurrency'],
    docker,
    tart,
    dedalus,
  };
}

/** runscaler gave a Tart set the Docker image when none was set (its bug 8); here that is an error. */
function image(s: ScaleSetSettings, set: number, c: Checker): string | undefined {
  if (s['runner-image'] !== undefined) return s['runner-image'];
  switch (s.backend) {
    case 'docker':
      return DOCKER_DEFAULT_IMAGE;
    case 'dedalus':
      return ''; // machines are provisioned by script, not from an image
    case 'tart':
      c.problem(
        set,
        ['runner-image'],
        'expected the Tart VM image to clone, e.g. "ghcr.io/cirruslabs/macos-sequoia-xcode:latest" (backend = "tart" has no default), got nothing',
      );
      return undefined;
  }
}
