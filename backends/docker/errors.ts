import { RunnerError } from '../../src/kernel/errors.js';
import { scrub } from '../../src/secret.js';

export type DockerBackendErrorCode =
  /** The engine could not be reached or answered an unexpected error. */
  | 'DOCKER_API'
  /** pull-policy "never" (or a failed pull) and the image is not on the host. */
  | 'DOCKER_IMAGE_MISSING'
  /** A pull failed and there is no local copy to fall back on. */
  | 'DOCKER_PULL_FAILED'
  /** create or start of a runner container failed; the container was removed. */
  | 'DOCKER_START_FAILED'
  /** A container with the runner's name exists but carries another owner's labels. */
  | 'DOCKER_NOT_OWNED'
  /** `[docker] host` is not a unix://, tcp:// or ssh:// address. */
  | 'DOCKER_INVALID_HOST'
  /** A `[[docker.hosts]]` TLS file (tls-ca, tls-cert, tls-key) could not be read when its client was made. */
  | 'DOCKER_TLS_FILE'
  /** The engine's TLS failed in a way a file fixes: its CA, the client certificate or key (names the key). */
  | 'DOCKER_TLS'
  /** ssh to the engine's machine refused the login. */
  | 'DOCKER_AUTH'
  /** No host of the scale set answers and is ready (each one's reason is in the message). */
  | 'DOCKER_NO_HOST'
  /** A runner is bigger than the whole budget of every host: waiting will not make it fit. */
  | 'DOCKER_HOST_TOO_SMALL'
  /** The backend was closed. */
  | 'DOCKER_CLOSED';

/**
 * Every error the Docker backend throws on purpose. Callers switch on `code`. The message never holds a
 * secret: text that came from the engine passes through `scrub()`, because the engine may echo parts of
 * a request back.
 */
export class DockerBackendError extends RunnerError {
  /** HTTP status from the engine, when the failure was an engine answer. */
  readonly statusCode: number | undefined;

  constructor(
    readonly code: DockerBackendErrorCode,
    message: string,
    opts: { cause?: unknown; statusCode?: number | undefined } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.statusCode = opts.statusCode;
  }
}

/** The HTTP status docker-modem attached to an engine error, if any. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/**
 * The engine's 409 while another removal of the same container is under way ("removal of container
 * … is already in progress", as Docker 20.10 words it). Only the message tells it from other
 * conflicts; should an engine word it otherwise, the removal fails and is retried, as before.
 */
export function isRemovalInProgress(err: unknown): boolean {
  return (
    statusOf(err) === 409 &&
    /removal of container .* is already in progress/i.test(String((err as Error)?.message ?? ''))
  );
}

/**
 * A one-line, secret-free description of an engine error. Every Secret registers its value for
 * `scrub()` when it is made, so a JIT config or registry password echoed by the engine is removed
 * without this module having to hold the values.
 */
export function describe(err: unknown): string {
  // An aborted request says only "The operation was aborted"; its cause says why (a deadline's reason).
  const cause = (err as { name?: unknown; cause?: unknown } | null)?.cause;
  const why =
    (err as { name?: unknown } | null)?.name === 'AbortError' && cause instanceof Error ? cause : err;
  const text = why instanceof Error ? why.message : String(why);
  return scrub(text).replace(/\s+/g, ' ').trim();
}

/**
 * Wraps an engine error. The original error is not kept as `cause`: a cause is logged with all its
 * enumerable fields, and those are not ours to vouch for. Its sanitised message stands in for it.
 */
export function wrap(code: DockerBackendErrorCode, what: string, err: unknown): DockerBackendError {
  const detail = describe(err);
  return new DockerBackendError(code, `${what}: ${detail}`, {
    cause: new Error(detail),
    statusCode: statusOf(err),
  });
}
