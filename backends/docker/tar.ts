/**
 * A minimal POSIX ustar writer: directories and regular files owned by root, which is all the CA files
 * need (`PUT /containers/{id}/archive` takes a tar). Written here rather than taken from tar-stream,
 * which dockerode only brings along as a dependency of its own.
 */

export interface TarEntry {
  /** Relative path inside the archive, `/`-separated; a directory ends with `/`. */
  path: string;
  mode: number;
  /** File content; none for a directory. */
  content?: string;
}

const BLOCK = 512;

export function tarArchive(entries: readonly TarEntry[], mtime = new Date(0)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const dir = e.path.endsWith('/');
    const body = dir ? Buffer.alloc(0) : Buffer.from(e.content ?? '', 'utf8');
    parts.push(header(e.path, e.mode, body.length, dir, mtime));
    if (body.length > 0) {
      parts.push(body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
    }
  }
  // The end of an archive: two empty blocks.
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(path: string, mode: number, size: number, dir: boolean, mtime: Date): Buffer {
  const name = Buffer.from(path, 'utf8');
  // Paths here are a few constant names: no need for the prefix field or PAX headers.
  if (name.length > 100) throw new Error(`tar path longer than 100 bytes: ${path}`);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid: root
  octal(h, 116, 8, 0); // gid: root
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.floor(mtime.getTime() / 1000));
  h.write(dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  // The checksum is computed with its own field as eight spaces.
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A zero-padded octal number ending in NUL, filling `width` bytes. */
function octal(h: Buffer, offset: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'ascii');
}
