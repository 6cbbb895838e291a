import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Just enough ustar to publish and unpack one executable, so neither the update path nor the build
 * needs a `tar` binary. The archives are plain ustar, which GNU tar, bsdtar and busybox tar read.
 */
const BLOCK = 512;

export interface TarEntry {
  name: string;
  data: Uint8Array;
  mode: number;
}

/** A gzipped ustar archive with fixed owner and mtime, so the same input gives the same bytes. */
export function createTarGz(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry, mtime), Buffer.from(entry.data), Buffer.alloc(padding(entry.data.length)));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
}

function header(entry: TarEntry, mtime: number): Buffer {
  if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name too long: ${entry.name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(entry.name, 0, 100, 'utf8');
  octal(h, 100, 8, entry.mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, entry.data.length);
  octal(h, 136, 12, mtime);
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  octal(h, 148, 8, checksum(h));
  return h;
}

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/**
 * Returns the data of the regular file whose base name is `member`, or undefined. Other entries
 * (directories, links, metadata) are skipped and never written anywhere, so a hostile archive cannot
 * place files outside the caller's control.
 */
export function extractFromTarGz(archive: Uint8Array, member: string): Buffer | undefined {
  const tar = gunzipSync(archive);
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const h = tar.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) return undefined;
    if (readOctal(h, 148, 8) !== checksum(h)) throw new Error(`corrupt tar header at byte ${offset}`);
    const size = readOctal(h, 124, 12);
    const type = String.fromCharCode(h[156]!);
    const dataStart = offset + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    if (data.length !== size) throw new Error('truncated tar archive');
    offset = dataStart + size + padding(size);
    if (type === 'L') {
      longName = cString(data);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    const prefix = cString(h.subarray(345, 500));
    const name =
      longName ?? (prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100)));
    longName = undefined;
    if ((type === '0' || type === '\u0000') && baseName(name) === member) return Buffer.from(data);
  }
  return undefined;
}

function readOctal(h: Uint8Array, offset: number, width: number): number {
  const text = cString(h.subarray(offset, offset + width)).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

/** PAX records are `<len> <key>=<value>\n`; only `path` matters here. */
function paxPath(data: Uint8Array): string | undefined {
  for (const record of Buffer.from(data).toString('utf8').split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(record);
    if (m) return m[1];
  }
  return undefined;
}

function baseName(name: string): string {
  return name.replace(/\/+$/, '').split('/').pop() ?? '';
}
