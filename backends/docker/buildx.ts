import type Docker from 'dockerode';
import { LABEL_RUNNER_NAME } from '../../src/labels.js';
import type { Logger } from '../../src/log.js';
import type { Owner } from '../types.js';
import { callSignal } from './call.js';
import { describe, isNotFound, statusOf } from './errors.js';
import { containerName, hasOwnerLabels, ownerLabelFilters } from './ownership.js';

/** buildx's docker-container driver names its builder `buildx_buildkit_<builder><node>`. */
export const BUILDX_PREFIX = 'buildx_buildkit_';
/** ...and keeps the builder's state in a volume named after the container plus this suffix. */
const STATE_SUFFIX = '_state';

/**
 * Removes buildx builder containers left behind by this owner's jobs.
 *
 * Ownership must be proven, and the only proof is our labels on the builder: buildx stamps no labels
 * of its own, and the engine does not record which client (which runner container, through a mounted
 * socket) created a container. A builder's name, age or creation time proves nothing on a shared host,
 * so a builder without our full owner label set is left alone, even if one of our jobs made it. (A job
 * or runner image that wants its builders cleaned up creates them with our labels.) Nothing is pruned
 * daemon-wide.
 *
 * With `runnerName`, only builders labelled with that runner are removed (called when it is removed).
 */
export async function removeOwnedBuilders(
  docker: Docker,
  owner: Owner,
  logger: Logger,
  signal: AbortSignal,
  runnerName?: string,
): Promise<string[]> {
  const found = await docker.listContainers({
    all: true,
    filters: { name: [BUILDX_PREFIX], label: ownerLabelFilters(owner) },
    abortSignal: callSignal(signal),
  });
  const mine = found.filter(
    (c) =>
      containerName(c).startsWith(BUILDX_PREFIX) &&
      hasOwnerLabels(c.Labels, owner) &&
      (runnerName === undefined || c.Labels[LABEL_RUNNER_NAME] === runnerName),
  );
  const removed: string[] = [];
  for (const c of mine) {
    const name = containerName(c);
    try {
      await docker.getContainer(c.Id).remove({ force: true, v: true, abortSignal: callSignal(signal) });
      removed.push(name);
    } catch (err) {
      if (!isNotFound(err))
        logger.warn({ builder: name, err: describe(err) }, 'could not remove buildx builder');
      continue;
    }
    await removeStateVolume(docker, `${name}${STATE_SUFFIX}`, logger, signal);
  }
  return removed;
}

async function removeStateVolume(docker: Docker, volume: string, logger: Logger, signal: AbortSignal) {
  try {
    await docker.getVolume(volume).remove({ abortSignal: callSignal(signal) });
  } catch (err) {
    // 404: the builder had none; 409: something else still uses it, so it is not only the builder's.
    const status = statusOf(err);
    if (status !== 404 && status !== 409) {
      logger.warn({ volume, err: describe(err) }, 'could not remove buildx state volume');
    }
  }
}
