import type Docker from 'dockerode';
import { anySignal } from '../../src/kernel/abort.js';
import type { Silence } from '../../src/kernel/answers.js';
import { Once } from '../../src/kernel/once.js';
import { TaskTracker } from '../../src/kernel/tasks.js';
import type { Logger } from '../../src/log.js';
import type { RunnerNetwork } from '../../src/net/runner-network.js';
import type { BackoffOptions } from '../../src/util/backoff.js';
import type {
  BackendCapabilities,
  BackendContext,
  OwnedRunner,
  Owner,
  RunnerBackend,
  RunnerEvent,
  RunnerHandle,
  RunnerSpec,
} from '../types.js';
import { removeOwnedBuilders } from './buildx.js';
import { callSignal } from './call.js';
import type { DockerConfig } from './config.js';
import { buildCreateRequest, caArchive } from './container-spec.js';
import { DockerBackendError, describe, isNotFound, wrap } from './errors.js';
import { watchExits } from './exit-watch.js';
import { dockerClientFor, engineAnswers, engineKey, engineSocket } from './host.js';
import type { DockerHostConfig } from './hosts-config.js';
import { ensureImage, type ImageRequest, refreshImage } from './image.js';
import { hasOwnerLabels, isOwnedRunner, ownerLabelFilters, toOwnedRunner } from './ownership.js';
import { startContainer } from './start-container.js';
import { ensureVolume, sharedVolumeName } from './volume.js';

export interface DockerBackendOptions {
  image: string;
  docker: DockerConfig;
  /** Reconnect backoff of the event stream (tests shorten it). */
  eventBackoff?: BackoffOptions;
  /** pull-policy "always": age of the last pull before a start refreshes the image (tests shorten it). */
  imageRefreshMs?: number;
}

/** Bound on close() when the caller gives no signal: shutdown must never hang on the engine. */
const CLOSE_TIMEOUT_MS = 60_000;

/** Ephemeral runners as containers on one Docker engine; see RunnerBackend for the contract. */
export class DockerBackend implements RunnerBackend {
  readonly kind = 'docker' as const;
  readonly resourceKind = 'container' as const;
  readonly capabilities: BackendCapabilities = {};
  readonly #docker: Docker;
  /** The engine this backend runs on: the first of `[docker]`'s hosts (placement across them comes later). */
  readonly #host: DockerHostConfig;
  readonly #owner: Owner;
  readonly #logger: Logger;
  readonly #opts: DockerBackendOptions;
  readonly #volume: string | undefined;
  readonly #closing = new AbortController();
  /**
   * Starts and background image refreshes, which close() waits for. No error handler: a start's
   * failure goes to its caller, and a refresh reports its own.
   */
  readonly #work = new TaskTracker(() => {});
  /** Image, shared volume and socket: once, by whichever of prepare() or the first start comes first. */
  readonly #prepared = new Once((signal: AbortSignal) => this.#prepare(signal));
  #socket: { path: string; gid?: number | undefined } | undefined;
  readonly #runnerNetwork: RunnerNetwork | undefined;
  readonly #caArchive: Buffer | undefined;

  constructor(ctx: BackendContext, opts: DockerBackendOptions) {
    this.#host = opts.docker.hosts[0] ?? { name: 'default', url: '' };
    this.#docker = dockerClientFor(this.#host);
    this.#owner = ctx.owner;
    this.#runnerNetwork = ctx.runnerNetwork;
    this.#caArchive = ctx.runnerNetwork?.ca && caArchive(ctx.runnerNetwork.ca);
    this.#opts = opts;
    this.#logger = ctx.logger.child({ scaleSet: ctx.owner.scaleSet, backend: 'docker' });
    this.#volume = sharedVolumeName(ctx.owner, opts.docker);
  }

  prepare(signal: AbortSignal): Promise<void> {
    return this.#prepared.run(anySignal(signal, this.#closing.signal));
  }

  async start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    if (this.#closing.signal.aborted)
      throw new DockerBackendError('DOCKER_CLOSED', 'docker backend is closed');
    const p = this.#start(spec, anySignal(signal, this.#closing.signal));
    void this.#work.track(p);
    return p;
  }

  async remove(runnerName: string, signal: AbortSignal): Promise<void> {
    let info: Docker.ContainerInspectInfo | undefined;
    try {
      info = await this.#docker.getContainer(runnerName).inspect({ abortSignal: callSignal(signal) });
    } catch (err) {
      if (!isNotFound(err)) throw wrap('DOCKER_API', `inspecting runner container "${runnerName}"`, err);
    }
    if (info) {
      if (!hasOwnerLabels(info.Config.Labels, this.#owner)) {
        throw new DockerBackendError(
          'DOCKER_NOT_OWNED',
          `container "${runnerName}" is not owned by instance ${this.#owner.instanceId} / scale set ${this.#owner.scaleSet}; left alone`,
        );
      }
      try {
        await this.#docker
          .getContainer(info.Id)
          .remove({ force: true, v: true, abortSignal: callSignal(signal) });
      } catch (err) {
        if (!isNotFound(err)) throw wrap('DOCKER_API', `removing runner container "${runnerName}"`, err);
      }
    }
    if (this.#opts.docker.buildxCleanup) await this.#cleanBuilders(signal, runnerName);
  }

  async listOwned(signal: AbortSignal): Promise<OwnedRunner[]> {
    let found: Docker.ContainerInfo[];
    try {
      found = await this.#docker.listContainers({
        all: true,
        filters: { label: ownerLabelFilters(this.#owner) },
        abortSignal: callSignal(signal),
      });
    } catch (err) {
      throw wrap('DOCKER_API', 'listing runner containers', err);
    }
    return found.filter((c) => isOwnedRunner(c, this.#owner)).map(toOwnedRunner);
  }

  /**
   * Each subscription opens its own engine event stream and takes a listing (exit-watch.ts), rather than
   * sharing one stream through a hub: a runner that exited while nobody was subscribed (the scaler
   * re-subscribes after an error) is still a stopped container, so the new subscription's listing
   * reports it. Nothing needs to be buffered between subscriptions, and a gap can never lose an exit.
   */
  events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    const deps = {
      docker: this.#docker,
      owner: this.#owner,
      logger: this.#logger,
      listOwned: (s: AbortSignal) => this.listOwned(s),
      ...(this.#opts.eventBackoff ? { backoff: this.#opts.eventBackoff } : {}),
    };
    return watchExits(deps, anySignal(signal, this.#closing.signal));
  }

  poolStatus(): Record<string, number> {
    return {};
  }

  /** Shared by every scale set on this engine: it is the engine that stalls, not one set's calls. */
  silence(): Silence | undefined {
    return engineAnswers(this.#host).silence();
  }

  async close(opts: { removeAll?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const signal = opts.signal ?? AbortSignal.timeout(CLOSE_TIMEOUT_MS);
    this.#closing.abort(new DockerBackendError('DOCKER_CLOSED', 'docker backend is closed'));
    // Aborted starts remove what they created; waiting for them means nothing appears after the sweep.
    await this.#work.settle(signal);
    if (!opts.removeAll) return;
    const owned = await this.listOwned(signal);
    const results = await Promise.allSettled(owned.map((r) => this.remove(r.name, signal)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (this.#opts.docker.buildxCleanup) await this.#cleanBuilders(signal);
    if (failed > 0) {
      throw new DockerBackendError(
        'DOCKER_API',
        `close: ${failed} of ${owned.length} runner containers not removed`,
      );
    }
  }

  async #start(spec: RunnerSpec, signal: AbortSignal): Promise<RunnerHandle> {
    await this.#prepared.run(signal);
    // Not awaited: this start uses the image on the engine; later ones get the refreshed one.
    const refresh = refreshImage(
      this.#docker,
      this.#imageRequest(),
      this.#logger,
      this.#closing.signal,
      this.#opts.imageRefreshMs,
    );
    if (refresh) void this.#work.track(refresh);
    const req = buildCreateRequest({
      spec,
      owner: this.#owner,
      image: this.#opts.image,
      docker: this.#opts.docker,
      sharedVolume: this.#volume,
      socket: this.#socket,
      runnerNetwork: this.#runnerNetwork,
      caArchive: this.#caArchive,
    });
    const t0 = performance.now();
    const id = await startContainer(this.#docker, req, spec, this.#owner, this.#logger, signal);
    this.#logger.debug(
      { runner: spec.name, container: id, ms: Math.round(performance.now() - t0) },
      'runner container started',
    );
    return { name: spec.name, resourceId: id, tier: 'cold' };
  }

  async #prepare(signal: AbortSignal): Promise<void> {
    const { docker } = this.#opts;
    await ensureImage(this.#docker, this.#imageRequest(), this.#logger, signal);
    if (this.#volume) await ensureVolume(this.#docker, this.#volume, this.#owner, signal);
    if (docker.dind) this.#socket = await engineSocket(this.#host.url);
  }

  #imageRequest(): ImageRequest {
    const { docker } = this.#opts;
    return {
      host: engineKey(this.#host),
      image: this.#opts.image,
      platform: docker.platform,
      pullPolicy: docker.pullPolicy,
      registryAuth: docker.registryAuth,
    };
  }

  async #cleanBuilders(signal: AbortSignal, runnerName?: string): Promise<void> {
    try {
      await removeOwnedBuilders(this.#docker, this.#owner, this.#logger, signal, runnerName);
    } catch (err) {
      this.#logger.warn({ err: describe(err) }, 'buildx cleanup failed');
    }
  }
}
