import type { NetworkAccess } from '../net/types.js';
import { parseChecksums, sha256Hex } from '../release/checksums.js';
import { assetUrl, CHECKSUMS_FILE } from '../release/layout.js';
import { extractFromTarGz } from '../release/tar.js';
import { ARCHIVE_MEMBER, archiveName, type ReleaseTarget } from '../release/target.js';
import { download } from './download.js';
import { UpdateError } from './errors.js';

const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

export interface FetchReleaseOptions {
  baseUrl: string;
  version: string;
  target: ReleaseTarget;
  timeoutMs: number;
  network?: NetworkAccess | undefined;
}

/**
 * Downloads one release's archive and checksums.txt and returns the `runner` executable inside,
 * only after the archive's SHA-256 matched its line in checksums.txt.
 */
export async function fetchVerifiedExecutable(opts: FetchReleaseOptions): Promise<Buffer> {
  const name = archiveName(opts.target);
  const sumsUrl = assetUrl(opts.baseUrl, opts.version, CHECKSUMS_FILE);
  const [archive, sumsText] = await Promise.all([
    download(assetUrl(opts.baseUrl, opts.version, name), {
      timeoutMs: opts.timeoutMs,
      maxBytes: MAX_ARCHIVE_BYTES,
      network: opts.network,
    }),
    download(sumsUrl, { timeoutMs: opts.timeoutMs, maxBytes: 1024 * 1024, network: opts.network }),
  ]);
  let sums: Map<string, string>;
  try {
    sums = parseChecksums(sumsText.toString('utf8'));
  } catch (err) {
    throw new UpdateError('UPDATE_CHECKSUM_MISSING', `${sumsUrl}: ${(err as Error).message}`, { cause: err });
  }
  const expected = sums.get(name);
  if (!expected)
    throw new UpdateError(
      'UPDATE_CHECKSUM_MISSING',
      `${sumsUrl} has no entry for ${name}; refusing an unverified download`,
    );
  const actual = sha256Hex(archive);
  if (actual !== expected) {
    throw new UpdateError(
      'UPDATE_CHECKSUM_MISMATCH',
      `${name} does not match checksums.txt (expected sha256 ${expected}, got ${actual}); nothing was changed. Retry later, or report it if it persists`,
    );
  }
  let executable: Buffer | undefined;
  try {
    executable = extractFromTarGz(archive, ARCHIVE_MEMBER);
  } catch (err) {
    throw new UpdateError('UPDATE_BAD_ARCHIVE', `${name}: ${(err as Error).message}`, { cause: err });
  }
  if (!executable || executable.length === 0) {
    throw new UpdateError(
      'UPDATE_BAD_ARCHIVE',
      `${name} has no "${ARCHIVE_MEMBER}" file; nothing was changed`,
    );
  }
  return executable;
}
