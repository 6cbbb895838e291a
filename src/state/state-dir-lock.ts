import { unlinkSync } from 'node:fs';
import { chown, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { delay } from '../kernel/abort.js';
import { RunnerError } from '../kernel/errors.js';
import { VERSION } from '../version.js';
import {
  type AskOptions,
  askEntry,
  DEFAULT_ASK,
  type EntryAnswer,
  type EntryState,
  type LockHolder,
  MAX_ENTRY_NAME,
  MAX_SOCKET_PATH,
  newEntryName,
  parseEntryName,
  pendingName,
  processAlive,
  serveEntry,
} from './lock-entry.js';

export type { LockHolder } from './lock-entry.js';

/**
 * The state-dir lock: one process at a time may act on a state-dir (a daemon, or doctor --fix), since
 * two daemons on one state-dir adopt and remove each other's runners.
 *
 * Node has no flock(2), so the lock is made of unix sockets in `state-dir/lock/`, one per contender,
 * each listened on by its process: the kernel closes it when the process dies, so a crash (kill -9,
 * OOM) never leaves the lock held, and whoever connects learns the holder's pid. Why not the Linux
 * abstract socket namespace: its names are per network namespace, not per directory (a daemon in a
 * container or a sandboxed unit sharing the directory would not see it), any local user could squat
 * the name, and macOS has none; this one mechanism works the same on Linux and macOS, for the npm
 * install and the single binary.
 *
 * Taking it: bind a pending socket, rename it to its published name once it listens (so a published
 * entry that refuses a connection is always a dead one), then ask every other entry. Any entry that
 * answers `held` wins over us. Two contenders that publish at the same moment see each other
 * `contending`: both withdraw and retry after a random pause, so at most one ever holds it. Entries
 * whose process is dead are removed; their names are unique, so removing one can never remove a live
 * entry (the race a single fixed lock file has between "it is stale" and unlink).
 */

export type StateDirLockErrorCode = 'STATE_DIR_IN_USE' | 'STATE_DIR_LOCK_FAILED';

export class StateDirLockError extends RunnerError {
  constructor(
    readonly code: StateDirLockErrorCode,
    message: string,
    /** Who holds it, for STATE_DIR_IN_USE. */
    readonly holder?: LockHolder,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type LockState =
  | { state: 'free' }
  /** `taking`: the process is between publishing and winning (a daemon starting this instant). */
  | { state: 'held'; holder: LockHolder; taking: boolean }
  | { state: 'unknown'; reason: string };

export interface LockOptions extends Partial<AskOptions> {
  /** Rounds of "both contending, both withdraw" before giving up (default 8). */
  rounds?: number;
}

export const LOCK_DIR = 'lock';

/** `pid 1234 (runner run, since 2025-01-01T10:00:00.000Z)`. */
export function describeHolder(h: LockHolder): string {
  const parts = [h.command === 'unknown' ? 'did not say what it is' : h.command];
  if (h.since) parts.push(`since ${h.since}`);
  return `pid ${h.pid} (${parts.join(', ')})`;
}

/**
 * Why `stateDir` cannot hold a lock, or undefined: its entries are unix sockets, whose paths the
 * kernel limits (and libuv would silently truncate a longer one, binding somewhere else).
 */
export function lockPathProblem(stateDir: string): string | undefined {
  const longest = Buffer.byteLength(join(stateDir, LOCK_DIR, 'x')) - 1 + MAX_ENTRY_NAME;
  if (longest <= MAX_SOCKET_PATH) return undefined;
  return `state-dir ${stateDir} is too long for its lock (a unix socket path: at most ${MAX_SOCKET_PATH} bytes on this system, ${longest} needed): choose a shorter state-dir`;
}

/** Who holds the lock of `stateDir`, without taking it or changing anything (doctor, validate). */
export async function inspectStateDirLock(stateDir: string, opts: LockOptions = {}): Promise<LockState> {
  const dir = join(stateDir, LOCK_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'free' };
    return { state: 'unknown', reason: `cannot read ${dir}: ${(err as Error).message}` };
  }
  const answers = await askAll(dir, names, undefined, { ...DEFAULT_ASK, ...opts });
  const live = answers.filter((a) => a.answer.kind === 'live');
  const held = live.find((a) => a.answer.kind === 'live' && a.answer.state !== 'contending') ?? live[0];
  if (held?.answer.kind === 'live') {
    return { state: 'held', holder: held.answer.holder, taking: held.answer.state === 'contending' };
  }
  const unreadable = answers.find((a) => a.answer.kind === 'unreadable');
  if (unreadable?.answer.kind === 'unreadable') {
    return {
      state: 'unknown',
      reason: `cannot ask ${join(dir, unreadable.name)}: ${unreadable.answer.reason}`,
    };
  }
  return { state: 'free' };
}

/**
 * Takes the lock of `stateDir` for `command` or throws StateDirLockError: STATE_DIR_IN_USE naming the
 * holder, or STATE_DIR_LOCK_FAILED when the lock cannot be made or read. Never waits for a holder.
 */
export async function acquireStateDirLock(
  stateDir: string,
  who: { command: string },
  opts: LockOptions = {},
): Promise<StateDirLock> {
  const ask = { ...DEFAULT_ASK, ...opts };
  const dir = join(stateDir, LOCK_DIR);
  const tooLong = lockPathProblem(stateDir);
  if (tooLong) throw new StateDirLockError('STATE_DIR_LOCK_FAILED', tooLong);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await ownLikeStateDir(stateDir, dir);
  } catch (err) {
    throw failed(`cannot create ${dir}`, err);
  }
  const rounds = opts.rounds ?? 8;
  let rival: LockHolder | undefined;
  for (let round = 0; round < rounds; round++) {
    const entry = await Entry.publish(dir, who.command);
    let verdict: Verdict;
    try {
      verdict = await contest(dir, entry.name, ask);
    } catch (err) {
      await entry.withdraw();
      throw err;
    }
    if (verdict.kind === 'won') {
      entry.state = 'held';
      return new StateDirLock(stateDir, entry);
    }
    await entry.withdraw();
    if (verdict.kind === 'held') throw inUse(stateDir, verdict.holder);
    rival = verdict.holder;
    // Both published at once: back off for a random while, so one of us gets there first next time.
    await delay(10 + Math.floor(Math.random() * 40 * (round + 1)));
  }
  throw inUse(stateDir, rival ?? { pid: 0, command: 'unknown' });
}

/** A held lock; `release()` on the way out (a process that dies releases it anyway). */
export class StateDirLock {
  readonly #entry: Entry;

  constructor(
    readonly stateDir: string,
    entry: Entry,
  ) {
    this.#entry = entry;
  }

  /** The socket that is the lock, for messages. */
  get path(): string {
    return this.#entry.path;
  }

  release(): Promise<void> {
    return this.#entry.withdraw();
  }
}

type Verdict =
  | { kind: 'won' }
  | { kind: 'held'; holder: LockHolder }
  | { kind: 'contending'; holder: LockHolder };

/** Asks every other entry; removes the dead ones. */
async function contest(dir: string, own: string, ask: AskOptions): Promise<Verdict> {
  const names = await readdir(dir).catch((err: unknown) => {
    throw failed(`cannot read ${dir}`, err);
  });
  const answers = await askAll(dir, names, own, ask);
  let contending: LockHolder | undefined;
  for (const { name, answer } of answers) {
    switch (answer.kind) {
      case 'live':
        if (answer.state !== 'contending') return { kind: 'held', holder: answer.holder };
        contending = answer.holder;
        break;
      case 'stale':
        await unlink(join(dir, name)).catch(ignoreMissing);
        break;
      case 'unreadable':
        throw new StateDirLockError(
          'STATE_DIR_LOCK_FAILED',
          `cannot tell whether ${join(dir, name)} is held: ${answer.reason}. Run runner as the user that owns the state-dir`,
        );
      case 'gone':
        break;
    }
  }
  return contending ? { kind: 'contending', holder: contending } : { kind: 'won' };
}

/**
 * Every entry but `own`, asked concurrently. A pending entry is only looked at to remove it once its
 * process is gone: while its process lives it may not listen yet, and it competes once published.
 */
async function askAll(
  dir: string,
  names: string[],
  own: string | undefined,
  ask: AskOptions,
): Promise<{ name: string; answer: EntryAnswer }[]> {
  const asked = names.flatMap((name) => {
    const parsed = parseEntryName(name);
    if (!parsed || name === own || (own !== undefined && name === pendingName(own))) return [];
    if (parsed.pending) {
      return processAlive(parsed.pid) ? [] : [Promise.resolve({ name, answer: { kind: 'stale' } as const })];
    }
    return [askEntry(join(dir, name), parsed.pid, ask).then((answer) => ({ name, answer }))];
  });
  return Promise.all(asked);
}

/** Our own entry: the listening socket and its published name. */
class Entry {
  state: EntryState = 'contending';
  readonly #since = new Date().toISOString();
  #withdrawn: Promise<void> | undefined;
  readonly #onExit = () => {
    // The kernel frees the socket at exit; removing the file spares the next start a stale entry.
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  };

  private constructor(
    readonly path: string,
    readonly name: string,
    readonly command: string,
    readonly server: Server,
  ) {}

  static async publish(dir: string, command: string): Promise<Entry> {
    const name = newEntryName(process.pid);
    const pending = join(dir, pendingName(name));
    const path = join(dir, name);
    let entry: Entry | undefined;
    let server: Server | undefined;
    try {
      server = await serveEntry(
        pending,
        () => entry?.answer() ?? { pid: process.pid, command, state: 'contending' },
      );
      entry = new Entry(path, name, command, server);
      process.on('exit', entry.#onExit);
      await rename(pending, path);
      return entry;
    } catch (err) {
      if (entry) await entry.withdraw();
      else await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await unlink(pending).catch(ignoreMissing);
      throw failed(`cannot make the lock socket ${path}`, err);
    }
  }

  answer(): object {
    return {
      pid: process.pid,
      command: this.command,
      since: this.#since,
      version: VERSION,
      state: this.state,
    };
  }

  /** Removes the name first, then stops listening: nobody is ever told "held" by a released lock. */
  withdraw(): Promise<void> {
    this.#withdrawn ??= (async () => {
      process.off('exit', this.#onExit);
      await unlink(this.path).catch(ignoreMissing);
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.#withdrawn;
  }
}

/**
 * `sudo runner doctor --fix` on the state-dir of a service that runs as its own user must not leave a
 * root-owned lock directory the service could no longer make its entry in.
 */
async function ownLikeStateDir(stateDir: string, dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const [owner, lockDir] = await Promise.all([stat(stateDir), stat(dir)]);
  if (owner.uid !== lockDir.uid || owner.gid !== lockDir.gid) await chown(dir, owner.uid, owner.gid);
}

function inUse(stateDir: string, holder: LockHolder): StateDirLockError {
  const next = holder.command.startsWith('runner run')
    ? 'Stop that daemon first (runner service stop, or Ctrl-C the foreground runner run), or give this config its own state-dir'
    : 'Wait for it to finish, or give this config its own state-dir';
  return new StateDirLockError(
    'STATE_DIR_IN_USE',
    `state-dir ${stateDir} is in use by ${describeHolder(holder)}: two processes on one state-dir would adopt and remove each other's runners. ${next}`,
    holder,
  );
}

function failed(what: string, err: unknown): StateDirLockError {
  if (err instanceof StateDirLockError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new StateDirLockError('STATE_DIR_LOCK_FAILED', `${what}: ${reason}`, undefined, { cause: err });
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
