import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, systemClock } from '../kernel/clock.js';

/**
 * Writes `data` so a crash leaves either the old or the new file, never a torn one:
 * temp file in the same directory, fsync, rename, fsync of the directory.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // On a full disk the temp file is made (an inode is free) and its data is not: left behind, every
    // retry would add one, each holding what it managed to write, in the very directory that is full.
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await dh.close();
  }
}

/** The temp files writeFileAtomic makes: `<file>.<8 hex>.tmp`. */
const TEMP_FILE = /\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes the temp files of atomic writes a process did not finish (killed between open and rename)
 * anywhere under `dir`, and returns their paths relative to it. Only for a directory no other process
 * writes now: the daemon calls it holding the state-dir lock, before anything of its own writes there.
 */
export async function removeUnfinishedWrites(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const temps = entries.filter((e) => TEMP_FILE.test(e));
  for (const t of temps) await unlink(join(dir, t)).catch(() => {});
  return temps;
}

/** Reads a JSON file; undefined when it does not exist. Any other error (including bad JSON) throws. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

/** Writes of a file failing since `since` (epoch ms), with the last error. */
export interface WriteOutage {
  since: number;
  /** The last error's message, e.g. "ENOSPC: no space left on device, write". */
  error: string;
  /** Its errno code (ENOSPC, EDQUOT, EROFS, EACCES, EIO…) when it has one. */
  code?: string;
}

export interface CoalescingWriterOptions {
  /** While writes fail, the newest content is written again this often (default 5 s). */
  retryMs?: number;
  /** Times the outage and its retries. */
  clock?: Clock;
}

/** While a file cannot be written, how often the newest content is tried again. */
export const WRITE_RETRY_MS = 5_000;

/**
 * Coalesces writes of a file that changes often: at most one write in flight and one pending, writes
 * at least `minIntervalMs` apart (the first of a burst goes at once), and `flush()` resolves once
 * everything requested so far is on disk (or failed).
 *
 * A failed write is reported to `onError` and starts an outage (`outage`, told once to `onOutage`
 * listeners when it begins and once when it ends), during which the newest content is written again
 * every `retryMs` even if nothing changes, so the end of a full disk is noticed without waiting for
 * the next change. The first successful write ends it.
 */
export class CoalescingWriter {
  #pending: (() => string) | undefined;
  #last: (() => string) | undefined;
  #running: Promise<void> | undefined;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #outage: WriteOutage | undefined;
  #cancelRetry: (() => void) | undefined;
  readonly #listeners = new Set<(now: WriteOutage | undefined, ended: WriteOutage | undefined) => void>();
  readonly #clock: Clock;
  readonly #retryMs: number;

  constructor(
    private readonly path: string,
    private readonly onError: (err: unknown) => void,
    private readonly minIntervalMs = 0,
    opts: CoalescingWriterOptions = {},
  ) {
    this.#clock = opts.clock ?? systemClock;
    this.#retryMs = opts.retryMs ?? WRITE_RETRY_MS;
  }

  /** Since when writes have been failing; undefined while the last write succeeded. */
  get outage(): WriteOutage | undefined {
    return this.#outage;
  }

  /**
   * Calls `fn(outage, undefined)` when an outage begins and `fn(undefined, ended)` when it ends (never
   * per failed write). Returns the function that stops the calls.
   */
  onOutage(fn: (now: WriteOutage | undefined, ended: WriteOutage | undefined) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  schedule(render: () => string): void {
    this.#pending = render;
    this.#last = render;
    this.#running ??= this.#drain();
  }

  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops retrying (the process is going away; the outage, if any, stays as it is). */
  stop(): void {
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
  }

  #wait(): number {
    return this.#lastWriteAt + this.minIntervalMs - performance.now();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending) {
        // A loop: timers count from the event loop's cached clock and can fire a little early.
        for (let wait = this.#wait(); wait > 0; wait = this.#wait()) await sleep(Math.ceil(wait));
        const render = this.#pending;
        this.#pending = undefined;
        this.#lastWriteAt = performance.now();
        try {
          await writeFileAtomic(this.path, render());
          this.#succeeded();
        } catch (err) {
          this.#failed(err);
          this.onError(err);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  #succeeded(): void {
    const ended = this.#outage;
    if (!ended) return;
    this.#outage = undefined;
    this.stop();
    for (const fn of this.#listeners) fn(undefined, ended);
  }

  #failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    const error = err instanceof Error ? err.message : String(err);
    const began = this.#outage === undefined;
    this.#outage = { since: this.#outage?.since ?? this.#clock.now(), error, ...(code ? { code } : {}) };
    this.#cancelRetry ??= this.#clock.setTimer(() => {
      this.#cancelRetry = undefined;
      // A write since then has either ended the outage or will arm the next retry itself.
      if (this.#outage && !this.#running && this.#last) this.schedule(this.#last);
    }, this.#retryMs);
    if (began) for (const fn of this.#listeners) fn(this.#outage, undefined);
  }
}
