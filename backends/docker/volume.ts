import type Docker from 'dockerode';
import { instanceTag, slug } from '../../src/labels.js';
import type { Owner } from '../types.js';
import { callSignal } from './call.js';
import type { DockerConfig } from './config.js';
import { wrap } from './errors.js';
import { ownerLabels } from './ownership.js';

/**
 * The cache volume of one scale set: `runner-cache-<scale set>-<instance tag>` unless configured. The
 * instance tag keeps two daemons (two orgs) that both call a set "linux" from sharing, and so
 * poisoning, one cache; it is stable across restarts, so the cache outlives them.
 */
export function sharedVolumeName(owner: Owner, docker: DockerConfig): string | undefined {
  if (!docker.sharedVolume) return undefined;
  return (
    docker.sharedVolumeName || `runner-cache-${slug(owner.scaleSet, 24)}-${instanceTag(owner.instanceId)}`
  );
}

/**
 * Creates the volume with our labels when missing. Creating an existing volume is a no-op on the
 * engine, so a volume made by the user (or a previous run) is used as it is. It is never removed here:
 * a cache that is wiped on every restart is not a cache.
 */
export async function ensureVolume(docker: Docker, name: string, owner: Owner, signal: AbortSignal) {
  try {
    await docker.createVolume({ Name: name, Labels: ownerLabels(owner), abortSignal: callSignal(signal) });
  } catch (err) {
    throw wrap('DOCKER_API', `creating shared volume "${name}"`, err);
  }
}
