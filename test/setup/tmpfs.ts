import { mkdir, mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, beforeEach } from 'vitest';

/**
 * A small tmpfs mounted where a test wants a disk it can fill: the state-dir of a daemon under test, so
 * "no space left on device" is real (the kernel's ENOSPC on a real filesystem), not a mocked error.
 *
 * Mounting needs root (CI runs `.ci/run` as root) or passwordless sudo. Like the Docker requirement
 * (test/setup/docker.ts): on CI (CI=true) a machine that cannot mount one fails the tests that need it,
 * never skips them; elsewhere `useTmpfs()` skips them with the reason.
 */
export type TmpfsEnv = { available: true } | { available: false; reason: string };

let ready: Promise<TmpfsEnv> | undefined;

/** Whether this process can mount a tmpfs (probed once: mount a tiny one, unmount it). */
export function ensureTmpfs(): Promise<TmpfsEnv> {
  ready ??= probe();
  return ready;
}

async function probe(): Promise<TmpfsEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'runner-tmpfs-probe-'));
  try {
    const mount = await Tmpfs.mount(dir, { sizeKiB: 64 });
    await mount.unmount();
    return { available: true };
  } catch (err) {
    // mount's own words ("permission denied", "only root can do that") say more than execa's summary.
    const said = (err as { stderr?: string }).stderr?.trim();
    const why = said || (err instanceof Error ? err.message.split('\n')[0] : String(err));
    const reason = `cannot mount a tmpfs (${why}): the full-disk tests need root or passwordless sudo`;
    if (process.env.CI === 'true') {
      throw new Error(`${reason}; CI=true, so they fail instead of skipping (.ci/run runs them as root)`);
    }
    return { available: false, reason };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Call at the top of a test file whose tests fill a disk: makes sure a tmpfs can be mounted before the
 * tests, and skips each test with the reason when it cannot, outside CI.
 */
export function useTmpfs(): void {
  let env: TmpfsEnv | undefined;
  beforeAll(async () => {
    env = await ensureTmpfs();
  }, 30_000);
  beforeEach((ctx) => {
    if (env && !env.available) ctx.skip(env.reason);
  });
}

/** `cmd` as root: directly when we are root, else through `sudo -n` (never prompts). */
function asRoot(cmd: string, args: string[]): Promise<unknown> {
  const root = process.getuid?.() === 0;
  return execa(root ? cmd : 'sudo', root ? args : ['-n', cmd, ...args], { stdin: 'ignore' });
}

/** A mounted tmpfs of a fixed size, owned by this process's user, that a test can fill and free. */
export class Tmpfs {
  #filler: string | undefined;

  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `sizeKiB` on `dir` (made if missing), mode 0700, owned by the current user. */
  static async mount(dir: string, opts: { sizeKiB: number }): Promise<Tmpfs> {
    await mkdir(dir, { recursive: true });
    const owner = process.getuid ? `,uid=${process.getuid()},gid=${process.getgid?.()}` : '';
    await asRoot('mount', ['-t', 'tmpfs', '-o', `size=${opts.sizeKiB}k,mode=0700${owner}`, 'tmpfs', dir]);
    return new Tmpfs(dir);
  }

  /**
   * Fills the filesystem to its last byte with one file: every later write of data fails with
   * ENOSPC (creating an empty file still works, as on a real full disk, where inodes outlast blocks).
   * Returns the bytes the filler took.
   */
  async fill(): Promise<number> {
    const path = join(this.dir, `.filler-${process.pid}`);
    this.#filler = path;
    const fh = await open(path, 'a');
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    try {
      // Smaller and smaller writes take the last pages too.
      for (let size = chunk.length; size >= 1; ) {
        try {
          const { bytesWritten } = await fh.write(chunk, 0, size);
          written += bytesWritten;
          if (bytesWritten < size) size = Math.floor(size / 2);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          size = Math.floor(size / 2);
        }
      }
    } finally {
      await fh.close();
    }
    return written;
  }

  /** Removes the filler: the space is back at once. */
  async free(): Promise<void> {
    if (!this.#filler) return;
    await unlink(this.#filler).catch(() => {});
    this.#filler = undefined;
  }

  /** Unmounts (lazily, so a process still holding a file there cannot make it fail). */
  async unmount(): Promise<void> {
    await asRoot('umount', ['-l', this.dir]);
  }
}
