import { randomBytes } from 'node:crypto';
import { open, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UpdateError } from './errors.js';

/**
 * Swaps the executable at `path` (symlinks followed, so the real file is replaced, not the link) for
 * `data`: temp file in the same directory (same filesystem, so the rename is atomic), mode 0755,
 * fsync, rename, fsync of the directory. A crash leaves the old or the new binary, never half of one;
 * a running process keeps its already-open old inode. (Not state/atomic-file's writeFileAtomic: that
 * writes text, creates missing directories 0700 and leaves the mode to the umask; an executable
 * replacing another must be exactly 0755 and must not appear where no binary was.)
 */
export async function replaceExecutable(path: string, data: Uint8Array): Promise<string> {
  const target = await realpath(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.update-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(tmp, 'wx', 0o755);
    try {
      await fh.writeFile(data);
      await fh.chmod(0o755);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? `: no write access to ${dir}; re-run with sudo, or reinstall with install.sh into a directory you own`
        : `: ${(err as Error).message}`;
    throw new UpdateError('UPDATE_WRITE', `cannot replace ${target}${hint}`, { cause: err });
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await dh.close();
  }
  return target;
}
