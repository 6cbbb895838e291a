import { request } from 'undici';
import type { RunnerConfig } from '../config/types.js';
import {
  describeHolder,
  inspectStateDirLock,
  type LockHolder,
  type StateDirLockError,
} from '../state/state-dir-lock.js';

export type Liveness =
  /** `holder`: the process holding the state-dir lock; absent when only a health server answered. */
  | { state: 'running'; detail: string; holder?: LockHolder }
  | { state: 'stopped'; detail: string }
  /** Neither proven up nor proven down: --fix must not assume the daemon is gone. */
  | { state: 'unknown'; detail: string };

const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether a daemon with this config runs, from the state-dir lock every `runner run` holds while it
 * lives: the kernel releases it when the process dies, so a kill -9 reads as "not running" at once,
 * whatever health-port says. `lockedByUs`: doctor --fix holds the lock itself, so no daemon runs.
 *
 * With the lock free, a configured health server is still asked: a daemon started before runner took
 * the lock (an update replaces the binary under a running daemon) holds none, and any HTTP answer
 * there (503 and 401 included) may be it. That reads as unknown, not running: it may as well be
 * another service on the port, which --force lets the user say.
 */
export async function probeDaemon(
  config: RunnerConfig,
  opts: { lockedByUs?: boolean } = {},
): Promise<Liveness> {
  if (!opts.lockedByUs) {
    const lock = await inspectStateDirLock(config.stateDir);
    if (lock.state === 'held') return heldBy(lock.holder);
    if (lock.state === 'unknown') {
      return { state: 'unknown', detail: `cannot read the state-dir lock: ${lock.reason}` };
    }
  }
  const free = opts.lockedByUs
    ? 'no daemon holds the state-dir lock (doctor holds it while it fixes)'
    : 'no process holds the state-dir lock';
  if (config.healthPort === 0) return { state: 'stopped', detail: free };
  const base = `http://${connectHost(config.healthHost)}:${config.healthPort}`;
  const answers = await Promise.all(['/readyz', '/healthz'].map((path) => httpAnswer(`${base}${path}`)));
  const answered = answers.find((a) => a !== undefined);
  if (answered === undefined) return { state: 'stopped', detail: free };
  return {
    state: 'unknown',
    detail: `${free}, but something answers at ${base} (${answered}): a runner daemon started before runner took the lock may be running with this config`,
  };
}

/** What a failed attempt to take the lock says about the daemon. */
export function livenessFromLockError(err: StateDirLockError): Liveness {
  if (err.code === 'STATE_DIR_IN_USE' && err.holder) return heldBy(err.holder);
  return { state: 'unknown', detail: `cannot take the state-dir lock: ${err.message}` };
}

function heldBy(holder: LockHolder): Liveness {
  return { state: 'running', holder, detail: `${describeHolder(holder)} holds the state-dir lock` };
}

/** `/readyz 503` when anything answers over HTTP; undefined when nothing does (refused, timed out). */
async function httpAnswer(url: string): Promise<string | undefined> {
  try {
    const res = await request(url, { method: 'GET', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body.dump();
    return `${new URL(url).pathname} ${res.statusCode}`;
  } catch {
    return undefined;
  }
}

/** A wildcard bind address is not one to connect to: use the loopback of the same family. */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
