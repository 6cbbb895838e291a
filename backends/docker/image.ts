import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '../../src/log.js';
import { answerDeadline, callSignal, inspectImage, PULL_TIMEOUT_MS } from './call.js';
import type { DockerConfig } from './config.js';
import { DockerBackendError, describe, isNotFound, wrap } from './errors.js';
import { jsonLines } from './json-lines.js';

export interface ImageRequest {
  /** Key of the engine in the client registry: pulls are shared per (host, image, platform). */
  host: string;
  image: string;
  platform: string;
  pullPolicy: DockerConfig['pullPolicy'];
  registryAuth?: DockerConfig['registryAuth'];
}

/** Pulls in flight or done, for the whole process: scale sets that share an image pull it once. */
const pulls = new Map<string, { p: Promise<void>; startedAt: number; settled: boolean }>();

/** With pull-policy "always", how old the last pull may get before a start refreshes the image. */
export const IMAGE_REFRESH_MS = 5 * 60_000;

const keyOf = (req: ImageRequest) => `${req.host}\0${req.image}\0${req.platform}`;

/**
 * Makes sure the image is on the engine as the pull policy says.
 * - never: only checks; a missing image is an error naming it.
 * - if-not-present: pulls only when missing (or present for another platform).
 * - always: pulls before the first start; when that fails but a local copy exists, the local copy is
 *   used with a warning, so a registry outage does not stop a daemon that can run (offline start).
 *   Later starts refresh it in the background (refreshImage), never waiting for the registry.
 */
export async function ensureImage(
  docker: Docker,
  req: ImageRequest,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const local = await isPresent(docker, req, signal);
  if (req.pullPolicy === 'never') {
    if (local) return;
    throw new DockerBackendError(
      'DOCKER_IMAGE_MISSING',
      `image "${req.image}"${forPlatform(req)} is not on the Docker engine and pull-policy is "never"; ` +
        `load it first (docker pull / docker load) or set [docker] pull-policy = "if-not-present"`,
    );
  }
  if (local && req.pullPolicy === 'if-not-present') return;
  try {
    await pullOnce(docker, req, signal);
  } catch (err) {
    if (!local || signal.aborted) throw err;
    logger.warn(
      { image: req.image, err: describe(err) },
      'image pull failed; using the copy already on the engine',
    );
  }
}

function pullOnce(docker: Docker, req: ImageRequest, signal: AbortSignal): Promise<void> {
  const key = keyOf(req);
  const known = pulls.get(key);
  if (known) return known.p;
  const entry = { p: pull(docker, req, signal), startedAt: Date.now(), settled: false };
  pulls.set(key, entry);
  entry.p.then(
    () => {
      entry.settled = true;
    },
    // A failed pull is forgotten so the next start tries again.
    () => pulls.delete(key),
  );
  return entry.p;
}

/**
 * pull-policy "always" on a long-running daemon: a tag such as `:latest` moves, and runners should
 * follow it without a restart. Once the last pull is `maxAgeMs` old, the next start pulls again in
 * the background; starts meanwhile (and if the registry is down) use the copy on the engine, and a
 * container created after the pull gets the new image by its tag. Returns the refresh, if one began.
 */
export function refreshImage(
  docker: Docker,
  req: ImageRequest,
  logger: Logger,
  signal: AbortSignal,
  maxAgeMs = IMAGE_REFRESH_MS,
): Promise<void> | undefined {
  if (req.pullPolicy !== 'always') return undefined;
  const key = keyOf(req);
  const last = pulls.get(key);
  if (!last?.settled || Date.now() - last.startedAt < maxAgeMs) return undefined;
  const entry = { p: pull(docker, req, signal), startedAt: Date.now(), settled: false };
  pulls.set(key, entry);
  // Success or failure, the next refresh waits another maxAgeMs: a registry outage is not retried per start.
  const done = entry.p.then(
    () => {
      logger.debug({ image: req.image }, 'image refreshed');
    },
    (err: unknown) => {
      if (!signal.aborted)
        logger.warn(
          { image: req.image, err: describe(err) },
          'image refresh failed; starts keep using the copy on the engine',
        );
    },
  );
  return done.finally(() => {
    entry.settled = true;
  });
}

async function pull(docker: Docker, req: ImageRequest, signal: AbortSignal): Promise<void> {
  const auth = req.registryAuth;
  const what = `pulling image "${req.image}"${forPlatform(req)}`;
  // The engine answers a pull at once and streams its progress; the pull as a whole may take long.
  const opening = answerDeadline(callSignal(signal, PULL_TIMEOUT_MS));
  const opts: Record<string, unknown> = { abortSignal: opening.signal };
  if (req.platform) opts.platform = req.platform;
  // docker-modem sends `authconfig` as the X-Registry-Auth header and strips it from the query.
  if (auth) {
    opts.authconfig = {
      username: auth.username,
      password: auth.password.reveal(),
      serveraddress: auth.serverAddress,
    };
  }
  let stream: Readable;
  try {
    stream = (await docker.pull(req.image, opts)) as Readable;
  } catch (err) {
    throw wrap('DOCKER_PULL_FAILED', what, err);
  } finally {
    opening.answered();
  }
  try {
    // The engine answers 200 at once and reports a failed pull inside the progress stream.
    for await (const msg of jsonLines(stream)) {
      if (msg.error !== undefined) throw new Error(String(msg.error));
    }
  } catch (err) {
    throw wrap('DOCKER_PULL_FAILED', what, err);
  } finally {
    stream.destroy();
  }
}

async function isPresent(docker: Docker, req: ImageRequest, signal: AbortSignal): Promise<boolean> {
  return (await localImage(docker, req.image, req.platform, signal)) !== undefined;
}

/**
 * The engine's copy of `image` for `platform` ('' takes any), or undefined when it has none: the one
 * answer to "is the image here" for starts and for `runner validate` alike.
 */
export async function localImage(
  docker: Docker,
  image: string,
  platform: string,
  signal: AbortSignal,
): Promise<Docker.ImageInspectInfo | undefined> {
  let info: Docker.ImageInspectInfo;
  try {
    info = await inspectImage(docker, image, callSignal(signal));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw wrap('DOCKER_API', `inspecting image "${image}"`, err);
  }
  return !platform || matchesPlatform(info, platform) ? info : undefined;
}

/** "linux/arm64/v8" against the image's os/architecture/variant; parts the config leaves out match. */
export function matchesPlatform(
  info: Pick<Docker.ImageInspectInfo, 'Os' | 'Architecture' | 'Variant'>,
  platform: string,
): boolean {
  const [os, arch, variant] = platform.toLowerCase().split('/');
  if (os && info.Os?.toLowerCase() !== os) return false;
  if (arch && info.Architecture?.toLowerCase() !== arch) return false;
  if (variant && info.Variant && info.Variant.toLowerCase() !== variant) return false;
  return true;
}

function forPlatform(req: ImageRequest): string {
  return req.platform ? ` (platform ${req.platform})` : '';
}
