import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatChecksums, parseChecksums, sha256Hex } from './checksums.js';
import { CHECKSUMS_FILE, METADATA_FILE } from './layout.js';
import { type ReleaseMetadata, renderReleaseMetadata } from './metadata.js';
import { createTarGz } from './tar.js';
import { ARCHIVE_MEMBER, archiveName, binaryName, type ReleaseTarget } from './target.js';

export interface PublishOptions {
  outDir: string;
  target: ReleaseTarget;
  /** The executable to publish (the single binary, or any file tests want installed). */
  executable: Uint8Array;
  metadata: ReleaseMetadata;
}

/**
 * Lays out one target's release assets in `outDir` (see layout.ts): the bare binary, the archive
 * holding it as `runner`, `latest.json`, and `checksums.txt` merged with entries already there, so
 * building several targets into one directory yields one checksums file.
 */
export async function publishRelease(opts: PublishOptions): Promise<string[]> {
  await mkdir(opts.outDir, { recursive: true });
  const binary = binaryName(opts.target);
  const archive = archiveName(opts.target);
  const tarGz = createTarGz([{ name: ARCHIVE_MEMBER, data: opts.executable, mode: 0o755 }]);
  await writeFile(join(opts.outDir, binary), opts.executable);
  await chmod(join(opts.outDir, binary), 0o755);
  await writeFile(join(opts.outDir, archive), tarGz);
  await writeFile(join(opts.outDir, METADATA_FILE), renderReleaseMetadata(opts.metadata));

  const sumsPath = join(opts.outDir, CHECKSUMS_FILE);
  const sums = await readExisting(sumsPath);
  sums.set(binary, sha256Hex(opts.executable));
  sums.set(archive, sha256Hex(tarGz));
  await writeFile(sumsPath, formatChecksums(sums));
  return [binary, archive, METADATA_FILE, CHECKSUMS_FILE];
}

async function readExisting(path: string): Promise<Map<string, string>> {
  try {
    return parseChecksums(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
}
