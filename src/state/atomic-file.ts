import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
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

/**
 * Coalesces writes of a file that changes often: at most one write in flight and one pending, writes
 * at least `minIntervalMs` apart (the first of a burst goes at once), and `flush()` resolves once
 * everything requested so far is on disk.
 */
export class CoalescingWriter {
  #pending: (() => string) | undefined;
  #running: Promise<void> | undefined;
  #lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly path: string,
    private readonly onError: (err: unknown) => void,
    private readonly minIntervalMs = 0,
  ) {}

  schedule(render: () => string): void {
    this.#pending = render;
    this.#running ??= this.#drain();
  }

  async flush(): Promise<void> {
    while (this.#running) await this.#running;
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
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}
