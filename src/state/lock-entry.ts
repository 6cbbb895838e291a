import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { delay } from '../kernel/abort.js';

/**
 * One entry of the state-dir lock: a unix socket in `state-dir/lock/`, listened on by the process
 * that made it. The kernel closes the socket when that process dies, however it dies, so "someone
 * answers on it" is the liveness test and a crash never leaves a live-looking entry behind; the
 * file itself stays until the next contender removes it. Whoever connects is told who holds it.
 */

/** What a lock entry's process says about itself. */
export interface LockHolder {
  pid: number;
  /** What holds the lock: "runner run", "runner doctor --fix". */
  command: string;
  /** When it took the lock (ISO 8601); absent when the holder did not answer. */
  since?: string;
  version?: string;
}

/** `contending`: published, still checking the other entries; `held`: it won. */
export type EntryState = 'contending' | 'held';

export type EntryAnswer =
  /** Someone listens. `silent`: it accepted the connection but did not say who it is in time. */
  | { kind: 'live'; state: EntryState | 'silent'; holder: LockHolder }
  /** Nobody listens: its process is gone. */
  | { kind: 'stale' }
  /** The file was removed meanwhile. */
  | { kind: 'gone' }
  /** Cannot tell (no permission to connect, an unexpected error). */
  | { kind: 'unreadable'; reason: string };

/** `<pid>-<random>`; a contender binds `.<pid>-<random>` first and renames it once it listens. */
const ENTRY = /^(\.?)([1-9][0-9]*)-[0-9a-f]{8}$/;

export function newEntryName(pid: number): string {
  return `${pid}-${randomBytes(4).toString('hex')}`;
}

export function pendingName(name: string): string {
  return `.${name}`;
}

/** The pid an entry name carries, and whether it is a published entry or a pending one. */
export function parseEntryName(name: string): { pid: number; pending: boolean } | undefined {
  const m = ENTRY.exec(name);
  if (!m) return undefined;
  return { pid: Number(m[2]), pending: m[1] === '.' };
}

/** Longest unix socket path the kernel takes (sun_path minus its NUL): 103 bytes on macOS and the BSDs. */
export const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/** Longest entry name `newEntryName` makes, pending dot included (pid up to 2^22 on Linux, 99999 on macOS). */
export const MAX_ENTRY_NAME = '.4194304-'.length + 8;

const ANSWER_LIMIT = 4_096;

/**
 * Listens on `path` and tells every connection who holds it. Unref'd: the lock never keeps the
 * process alive by itself, so a forgotten release cannot turn into a hang at exit.
 */
export function serveEntry(path: string, answer: () => object): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(`${JSON.stringify(answer())}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Anyone who can reach the lock directory (0700, its owner's) may connect: a socket left by a
    // root doctor must not keep the service's user from asking it, or finding it dead.
    server.listen({ path, exclusive: true, readableAll: true, writableAll: true }, () => {
      server.off('error', reject);
      server.unref();
      resolve(server);
    });
  });
}

export interface AskOptions {
  /** How long a connection may take to say who holds it. */
  answerTimeoutMs: number;
  /** Retries of a refused connection while the entry's pid is alive (see askEntry). */
  refusedRetries: number;
  refusedRetryMs: number;
}

export const DEFAULT_ASK: AskOptions = { answerTimeoutMs: 2_000, refusedRetries: 3, refusedRetryMs: 100 };

/**
 * Asks the entry at `path` (made by process `pid`) who holds it. A refused connection means nobody
 * listens, which is final when `pid` is gone. While `pid` lives it is asked again a few times: macOS
 * also refuses when a live listener's queue is full, and declaring a live holder stale would let a
 * second process in. A live pid that keeps refusing is a reused pid, or a holder closing its lock.
 */
export async function askEntry(
  path: string,
  pid: number,
  opts: AskOptions = DEFAULT_ASK,
): Promise<EntryAnswer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await connectOnce(path, pid, opts.answerTimeoutMs);
    // Not allowed to connect (another user's socket): if its process is gone, it is dead all the same.
    if (answer !== 'refused' && !(answer.kind === 'unreadable' && !processAlive(pid))) return answer;
    if (!processAlive(pid) || attempt >= opts.refusedRetries) return { kind: 'stale' };
    await delay(opts.refusedRetryMs);
  }
}

function connectOnce(path: string, pid: number, timeoutMs: number): Promise<EntryAnswer | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    let text = '';
    let settled = false;
    const silent: EntryAnswer = { kind: 'live', state: 'silent', holder: { pid, command: 'unknown' } };
    const finish = (answer: EntryAnswer | 'refused') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // A listener that accepts but never answers is alive (its event loop may be busy): count it as
    // a holder rather than guess it away.
    const timer = setTimeout(() => finish(silent), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > ANSWER_LIMIT) finish(parseAnswer(text, silent));
    });
    socket.on('end', () => finish(parseAnswer(text, silent)));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      switch (err.code) {
        case 'ECONNREFUSED':
          return finish('refused');
        case 'ENOENT':
          return finish({ kind: 'gone' });
        case 'ECONNRESET':
        case 'EPIPE':
          // Connected, then dropped: something listened there a moment ago.
          return finish(parseAnswer(text, silent));
        default:
          return finish({ kind: 'unreadable', reason: `${err.code ?? 'error'}: ${err.message}` });
      }
    });
  });
}

function parseAnswer(text: string, silent: EntryAnswer): EntryAnswer {
  try {
    const v = JSON.parse(text.split('\n')[0] ?? '') as Partial<LockHolder> & { state?: unknown };
    if (typeof v.pid !== 'number' || typeof v.command !== 'string') return silent;
    const holder: LockHolder = { pid: v.pid, command: v.command };
    if (typeof v.since === 'string') holder.since = v.since;
    if (typeof v.version === 'string') holder.version = v.version;
    return { kind: 'live', state: v.state === 'contending' ? 'contending' : 'held', holder };
  } catch {
    return silent;
  }
}

/** Signal 0 checks existence; EPERM means it exists but belongs to another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
