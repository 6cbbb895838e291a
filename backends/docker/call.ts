import type Docker from 'dockerode';
import { anySignal, isAbortError } from '../../src/kernel/abort.js';
import type { AnswerWatch, CallOutcome } from '../../src/kernel/answers.js';

/** Bound on one ordinary engine call (create, start, inspect, list, remove). */
export const API_TIMEOUT_MS = 30_000;
/** Bound on one image pull: large runner images over slow links take minutes. */
export const PULL_TIMEOUT_MS = 30 * 60_000;

/**
 * The caller's signal plus a deadline, so no engine call can hang a start or a shutdown. The signal
 * goes to the request itself (never only to a race around it): an abandoned request would keep its
 * socket, and with it the process, alive for as long as the engine stays silent.
 */
export function callSignal(signal: AbortSignal | undefined, ms = API_TIMEOUT_MS): AbortSignal {
  return anySignal(signal, deadline(ms));
}

/**
 * For a call whose answer is a stream (events, a pull's progress): the engine must start answering
 * within `ms` — it sends its headers at once — but once it has, only `signal` ends the stream. Call
 * `answered()` when the call returned (with the stream or an error).
 */
export function answerDeadline(
  signal: AbortSignal,
  ms = API_TIMEOUT_MS,
): { signal: AbortSignal; answered(): void } {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(noAnswer(ms)), ms);
  timer.unref();
  return { signal: anySignal(signal, ctl.signal), answered: () => clearTimeout(timer) };
}

function deadline(ms: number): AbortSignal {
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(noAnswer(ms)), ms).unref();
  return ctl.signal;
}

/** The reason a deadline gives: what a person reads in the error, and a TimeoutError for code. */
function noAnswer(ms: number): DOMException {
  return new DOMException(
    `no answer from the Docker engine within ${Math.round(ms / 100) / 10}s`,
    'TimeoutError',
  );
}

/**
 * GET /images/{name}/json with a signal that reaches the request: dockerode's Image#inspect takes none.
 * Same path and status handling as dockerode's, so errors (404 → statusCode) read the same.
 */
export function inspectImage(
  docker: Docker,
  name: string,
  signal: AbortSignal,
): Promise<Docker.ImageInspectInfo> {
  return dial(docker, {
    path: `/images/${name}/json`,
    method: 'GET',
    abortSignal: signal,
    statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
  });
}

/** GET /version with a signal (dockerode takes one, its types do not say so). */
export function engineVersion(docker: Docker, signal: AbortSignal): Promise<Docker.DockerVersion> {
  return dial(docker, {
    path: '/version',
    method: 'GET',
    abortSignal: signal,
    statusCodes: { 200: true, 500: 'server error' },
  });
}

/** GET /_ping with a signal: the cheapest call that proves the engine answers. */
export function enginePing(docker: Docker, signal: AbortSignal): Promise<unknown> {
  return dial(docker, {
    path: '/_ping',
    method: 'GET',
    abortSignal: signal,
    statusCodes: { 200: true, 500: 'server error' },
  });
}

/** The engine's size as `docker info` reports it: CPUs and memory of the machine it runs on. */
export interface EngineSize {
  cpus: number;
  /** Bytes. */
  memory: number;
}

/** GET /info with a signal, reduced to the engine's size (NCPU, MemTotal). */
export async function engineSize(docker: Docker, signal: AbortSignal): Promise<EngineSize> {
  const info = await dial<{ NCPU?: unknown; MemTotal?: unknown }>(docker, {
    path: '/info',
    method: 'GET',
    abortSignal: signal,
    statusCodes: { 200: true, 500: 'server error' },
  });
  const { NCPU: cpus, MemTotal: memory } = info;
  if (typeof cpus !== 'number' || typeof memory !== 'number' || cpus <= 0 || memory <= 0) {
    throw new Error(`docker info gave no usable size (NCPU ${String(cpus)}, MemTotal ${String(memory)})`);
  }
  return { cpus, memory };
}

/** GET /networks/{id} with a signal: dockerode's Network#inspect takes none. */
export function inspectNetwork(
  docker: Docker,
  name: string,
  signal: AbortSignal,
): Promise<Docker.NetworkInspectInfo> {
  return dial(docker, {
    path: `/networks/${encodeURIComponent(name)}`,
    method: 'GET',
    abortSignal: signal,
    statusCodes: { 200: true, 404: 'no such network', 500: 'server error' },
  });
}

/** GET /distribution/{name}/json (the registry's manifest, through the engine), with a signal. */
export function imageDistribution(
  docker: Docker,
  name: string,
  authconfig: Record<string, string> | undefined,
  signal: AbortSignal,
): Promise<unknown> {
  return dial(docker, {
    path: `/distribution/${name}/json`,
    method: 'GET',
    abortSignal: signal,
    ...(authconfig ? { authconfig } : {}),
    statusCodes: { 200: true, 401: 'no such image', 500: 'server error' },
  });
}

interface DialOptions {
  path: string;
  method: string;
  abortSignal?: AbortSignal;
  authconfig?: Record<string, string>;
  statusCodes: Record<number, boolean | string>;
  isStream?: boolean;
}
type DialCallback = (err: unknown, data: unknown) => void;
interface Modem {
  dial(options: DialOptions, callback: DialCallback): void;
}

function dial<T>(docker: Docker, options: DialOptions): Promise<T> {
  const modem = docker.modem as Modem;
  return new Promise<T>((resolve, reject) => {
    modem.dial(options, (err, data) => (err ? reject(err) : resolve(data as T)));
  });
}

/**
 * Reports the fate of every request made through `docker` to `answers`: all of dockerode's calls go
 * through the modem's one `dial`, whose callback fires when the engine answered (for a stream, with
 * its headers) or the request failed. Wrapping that one function, rather than every call site, means
 * no call can be forgotten.
 */
export function watchAnswers(docker: Docker, answers: AnswerWatch): void {
  const modem = docker.modem as Modem;
  const dialOnce = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const done = answers.sent();
    dialOnce(options, (err, data) => {
      done(callOutcome(err, `${options.method ?? 'GET'} ${options.path.split('?')[0]}`));
      callback(err, data);
    });
  };
}

/** An engine error response is an answer; a deadline, a refused or broken connection is not. */
export function callOutcome(err: unknown, what: string): CallOutcome {
  if (!err) return { kind: 'answered' };
  if (typeof (err as { statusCode?: unknown }).statusCode === 'number') return { kind: 'answered' };
  if (isAbortError(err)) {
    const cause = (err as { cause?: unknown }).cause;
    if (!(cause instanceof Error) || cause.name !== 'TimeoutError') return { kind: 'cancelled' };
    return { kind: 'unanswered', error: `${what}: ${cause.message}` };
  }
  return { kind: 'unanswered', error: `${what}: ${err instanceof Error ? err.message : String(err)}` };
}
