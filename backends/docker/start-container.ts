import type Docker from 'dockerode';
import { LABEL_RUNNER_ID, LABEL_RUNNER_NAME } from '../../src/labels.js';
import type { Logger } from '../../src/log.js';
import type { Owner, RunnerSpec } from '../types.js';
import { API_TIMEOUT_MS, callSignal } from './call.js';
import type { CreateRequest } from './container-spec.js';
import { describe, isNotFound, statusOf, wrap } from './errors.js';
import { hasOwnerLabels } from './ownership.js';

/**
 * Creates and starts one runner container; returns its id. On any failure the container is removed
 * before the error is thrown, so a failed start leaves nothing behind. When `signal` aborted the start,
 * its reason is thrown (after the cleanup) so callers see a cancellation, not an engine error.
 */
export async function startContainer(
  docker: Docker,
  req: CreateRequest,
  spec: RunnerSpec,
  owner: Owner,
  logger: Logger,
  signal: AbortSignal,
): Promise<string> {
  let created = false;
  try {
    const container = await docker.createContainer(sendSeparately(req, callSignal(signal)));
    created = true;
    if (req.archive) {
      await container.putArchive(req.archive.tar, {
        path: req.archive.path,
        abortSignal: callSignal(signal),
      });
    }
    await container.start({ abortSignal: callSignal(signal) });
    return container.id;
  } catch (err) {
    // 409 on create: the name is taken, so we created nothing and must not remove the holder. Any
    // other failure may have left a container, even an aborted create the engine finished anyway.
    if (created || statusOf(err) !== 409) await removeFailedStart(docker, spec, owner, logger);
    if (signal.aborted) throw signal.reason;
    throw wrap('DOCKER_START_FAILED', `starting runner container "${spec.name}"`, err);
  }
}

/** See CreateRequest: dockerode sends `_query` as the URL query and `_body` as the JSON body. */
function sendSeparately(req: CreateRequest, signal: AbortSignal): Docker.ContainerCreateOptions {
  return { _query: req.query, _body: req.body, abortSignal: signal } as Docker.ContainerCreateOptions;
}

/** By name, since the create may not have told us the id; and only a container with this runner's labels. */
async function removeFailedStart(docker: Docker, spec: RunnerSpec, owner: Owner, logger: Logger) {
  // Its own deadline: the start's signal may be the reason we are here.
  const signal = AbortSignal.timeout(API_TIMEOUT_MS);
  try {
    const c = docker.getContainer(spec.name);
    const labels = (await c.inspect({ abortSignal: signal })).Config.Labels ?? {};
    const same = labels[LABEL_RUNNER_NAME] === spec.name && labels[LABEL_RUNNER_ID] === String(spec.runnerId);
    if (hasOwnerLabels(labels, owner) && same) await c.remove({ force: true, v: true, abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) {
      logger.error(
        { runner: spec.name, err: describe(err) },
        'could not remove the container of a failed start',
      );
    }
  }
}
