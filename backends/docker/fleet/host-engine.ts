import type Docker from 'dockerode';
import { delay } from '../../../src/kernel/abort.js';
import type { Logger } from '../../../src/log.js';
import type { RunnerNetwork } from '../../../src/net/runner-network.js';
import type { OwnedRunner, Owner, RunnerSpec } from '../../types.js';
import { removeOwnedBuilders } from '../buildx.js';
import { callSignal, enginePing, engineSize } from '../call.js';
import type { DockerConfig } from '../config.js';
import { explainConnectError } from '../connect-errors.js';
import { buildCreateRequest } from '../container-spec.js';
import { DockerBackendError, describe, isNotFound, isRemovalInProgress, wrap } from '../errors.js';
import { dockerClientFor, engineKey, engineSocket } from '../host.js';
import type { DockerHostConfig } from '../hosts-config.js';
import { ensureImage, type ImageRequest, refreshImage } from '../image.js';
import { hasOwnerLabels, isOwnedRunner, ownerLabelFilters, toOwnedRunner } from '../ownership.js';
import { startContainer } from '../start-container.js';
import { ensureVolume } from '../volume.js';
import type { HostProbe } from './monitor.js';

/** How often a removal that found another under way looks whether the container is gone yet. */
const REMOVAL_POLL_MS = 100;

/** What every host of one scale set shares: the set's owner, image and `[docker]` settings. */
export interface HostEngineShared {
  owner: Owner;
  image: string;
  docker: DockerConfig;
  /** The set's cache volume, made on each host (a cache is per machine). */
  volume: string | undefined;
  runnerNetwork: RunnerNetwork | undefined;
  caArchive: Buffer | undefined;
  imageRefreshMs: number | undefined;
}

/**
 * One Docker host as one scale set uses it: its client, what a start there needs (the image pulled by
 * the pull policy, the shared volume, the engine socket for dind) and the container calls, scoped to
 * this set's owner labels. Whether the host answers is its monitor's (monitor.ts); where a runner goes,
 * the budget book's; this only does what it is told on this one engine.
 */
export class HostEngine {
  /** The budget book's key of the host, and its monitor's: the url. */
  readonly key: string;
  readonly name: string;
  readonly docker: Docker;
  readonly logger: Logger;
  /** The image, volume and socket are in place for this set since the host last came up. */
  ready = false;
  /** A preparation under way (shared by whoever asks meanwhile). */
  preparing: Promise<void> | undefined;
  /** When a failed preparation may be tried again by a start (ms epoch). */
  prepareNotBefore = 0;
  prepareFailures = 0;
  /** The last preparation error logged, so a retry that fails alike is not logged again. */
  lastPrepareError: string | undefined;
  #socket: { path: string; gid?: number | undefined } | undefined;

  constructor(
    readonly host: DockerHostConfig,
    private readonly shared: HostEngineShared,
    logger: Logger,
  ) {
    this.key = host.url;
    this.name = host.name;
    this.docker = dockerClientFor(host);
    this.logger = logger.child({ host: host.name });
  }

  /** The image (by the pull policy), the shared volume and the dind socket, for starts on this host. */
  async prepare(signal: AbortSignal): Promise<void> {
    const { docker } = this.shared;
    await ensureImage(this.docker, this.imageRequest(), this.logger, signal);
    if (this.shared.volume) await ensureVolume(this.docker, this.shared.volume, this.shared.owner, signal);
    if (docker.dind) this.#socket = await engineSocket(this.host.url);
  }

  /**
   * Creates and starts the runner's container here; returns its id. A failed start leaves no container
   * when the engine answered (startContainer removes it). `background` bounds the image refresh a start
   * may begin, which outlives the start; it is handed back to be tracked.
   */
  async start(
    spec: RunnerSpec,
    signal: AbortSignal,
    background: { signal: AbortSignal; track(p: Promise<void>): void },
  ): Promise<string> {
    // Not awaited: this start uses the image on the engine; later ones get the refreshed one.
    const refresh = refreshImage(
      this.docker,
      this.imageRequest(),
      this.logger,
      background.signal,
      this.shared.imageRefreshMs,
    );
    if (refresh) background.track(refresh);
    const req = buildCreateRequest({
      spec,
      owner: this.shared.owner,
      image: this.shared.image,
      docker: this.shared.docker,
      sharedVolume: this.shared.volume,
      socket: this.#socket,
      runnerNetwork: this.shared.runnerNetwork,
      caArchive: this.shared.caArchive,
    });
    return startContainer(this.docker, req, spec, this.shared.owner, this.logger, signal);
  }

  /** This set's runner containers on this host, each saying which host it is on. */
  async list(signal: AbortSignal, what = 'listing runner containers'): Promise<OwnedRunner[]> {
    const owner = this.shared.owner;
    let found: Docker.ContainerInfo[];
    try {
      found = await this.docker.listContainers({
        all: true,
        filters: { label: ownerLabelFilters(owner) },
        abortSignal: callSignal(signal),
      });
    } catch (err) {
      throw wrap('DOCKER_API', what, err);
    }
    return found
      .filter((c) => isOwnedRunner(c, owner))
      .map((c) => ({ ...toOwnedRunner(c), host: this.name }));
  }

  /**
   * Removes the runner's container when it is here and ours: true when one was removed, false when
   * there was none. A container of that name with another owner's labels is an error, and stays.
   */
  async remove(name: string, signal: AbortSignal, where = ''): Promise<boolean> {
    let info: Docker.ContainerInspectInfo | undefined;
    try {
      info = await this.docker.getContainer(name).inspect({ abortSignal: callSignal(signal) });
    } catch (err) {
      if (!isNotFound(err)) throw wrap('DOCKER_API', `inspecting runner container "${name}"${where}`, err);
    }
    let removed = false;
    if (info) {
      const owner = this.shared.owner;
      if (!hasOwnerLabels(info.Config.Labels, owner)) {
        throw new DockerBackendError(
          'DOCKER_NOT_OWNED',
          `container "${name}"${where} is not owned by instance ${owner.instanceId} / scale set ${owner.scaleSet}; left alone`,
        );
      }
      try {
        await this.docker
          .getContainer(info.Id)
          .remove({ force: true, v: true, abortSignal: callSignal(signal) });
        removed = true;
      } catch (err) {
        if (isRemovalInProgress(err)) await this.#awaitRemoval(info.Id, name, where, err, signal);
        else if (!isNotFound(err))
          throw wrap('DOCKER_API', `removing runner container "${name}"${where}`, err);
      }
    }
    if (this.shared.docker.buildxCleanup) await this.cleanBuilders(signal, name);
    return removed;
  }

  /**
   * Another removal of this container is under way on the engine (a host that came back is
   * reconciled while close() settles the same debts, or a caller before us gave up on its request
   * and the engine went on): the container is going, so this removal waits until it is gone, within
   * one call's deadline, instead of failing and leaving the caller to believe it is still there. If
   * the other removal ends without removing it (the engine marks it dead), that is this removal's
   * error, and its caller retries as after any failed removal.
   */
  async #awaitRemoval(
    id: string,
    name: string,
    where: string,
    cause: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    const bounded = callSignal(signal);
    for (;;) {
      await delay(REMOVAL_POLL_MS, bounded).catch((err: unknown) => {
        throw wrap(
          'DOCKER_API',
          `removing runner container "${name}"${where}: another removal still under way`,
          err,
        );
      });
      let state: string;
      try {
        state = (await this.docker.getContainer(id).inspect({ abortSignal: bounded })).State.Status;
      } catch (err) {
        if (isNotFound(err)) return;
        throw wrap('DOCKER_API', `inspecting runner container "${name}"${where}`, err);
      }
      if (state !== 'removing')
        throw wrap('DOCKER_API', `removing runner container "${name}"${where}`, cause);
    }
  }

  /** Whether a container of this name exists here (for a start whose outcome is not known). */
  async exists(name: string, signal: AbortSignal): Promise<{ id: string } | undefined> {
    try {
      const info = await this.docker.getContainer(name).inspect({ abortSignal: callSignal(signal) });
      return hasOwnerLabels(info.Config.Labels, this.shared.owner) ? { id: info.Id } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async cleanBuilders(signal: AbortSignal, runnerName?: string): Promise<void> {
    try {
      await removeOwnedBuilders(this.docker, this.shared.owner, this.logger, signal, runnerName);
    } catch (err) {
      this.logger.warn({ err: describe(err) }, 'buildx cleanup failed');
    }
  }

  imageRequest(): ImageRequest {
    const { docker } = this.shared;
    return {
      host: engineKey(this.host),
      image: this.shared.image,
      platform: docker.platform,
      pullPolicy: docker.pullPolicy,
      registryAuth: docker.registryAuth,
    };
  }
}

/** How a monitor reaches a host: through the same client as every other call to it. */
export function probeFor(host: DockerHostConfig): HostProbe {
  const docker = dockerClientFor(host);
  return {
    ping: (signal) => enginePing(docker, signal),
    size: (signal) => engineSize(docker, signal),
    explain: (err) => explainConnectError(host, err),
  };
}
