import semver from 'semver';
import type { NetworkAccess } from '../net/types.js';
import { latestMetadataUrl } from '../release/layout.js';
import { parseReleaseMetadata } from '../release/metadata.js';
import { download } from './download.js';
import { UpdateError } from './errors.js';

export interface UpdateQuery {
  baseUrl: string;
  current: string;
  /** --version: install exactly this release instead of the latest. */
  pin?: string;
  allowDowngrade: boolean;
  timeoutMs: number;
  network?: NetworkAccess | undefined;
}

export type UpdateDecision =
  | { action: 'update'; current: string; target: string }
  | { action: 'downgrade'; current: string; target: string }
  | { action: 'current'; current: string; target: string }
  /** The newest release is older than this build (a dev or pre-release build): nothing to do. */
  | { action: 'ahead'; current: string; target: string };

/**
 * Decides by semver, never by string comparison: "0.10.0" is newer than "0.9.9", and an older release
 * is installed only when pinned with --version and allowed with --allow-downgrade.
 */
export async function decideUpdate(q: UpdateQuery): Promise<UpdateDecision> {
  const current = semver.valid(q.current);
  if (!current)
    throw new UpdateError(
      'UPDATE_BAD_METADATA',
      `this build's version ${JSON.stringify(q.current)} is not semver`,
    );
  const target = q.pin ? pinned(q.pin) : await latestVersion(q.baseUrl, q.timeoutMs, q.network);
  const order = semver.compare(target, current);
  if (order === 0) return { action: 'current', current, target };
  if (order > 0) return { action: 'update', current, target };
  if (!q.pin) return { action: 'ahead', current, target };
  if (!q.allowDowngrade) {
    throw new UpdateError(
      'UPDATE_DOWNGRADE',
      `${target} is older than the running ${current}; pass --allow-downgrade as well to install it anyway`,
    );
  }
  return { action: 'downgrade', current, target };
}

function pinned(version: string): string {
  const v = semver.clean(version);
  if (!v)
    throw new UpdateError(
      'UPDATE_BAD_METADATA',
      `--version ${JSON.stringify(version)} is not a version like 1.2.3`,
    );
  return v;
}

/** A small JSON file: no reason to wait as long as for a binary. */
const METADATA_TIMEOUT_MS = 30_000;

async function latestVersion(
  baseUrl: string,
  timeoutMs: number,
  network: NetworkAccess | undefined,
): Promise<string> {
  const url = latestMetadataUrl(baseUrl);
  const body = await download(url, {
    timeoutMs: Math.min(timeoutMs, METADATA_TIMEOUT_MS),
    maxBytes: 64 * 1024,
    network,
  });
  try {
    return parseReleaseMetadata(body.toString('utf8'), url).version;
  } catch (err) {
    throw new UpdateError('UPDATE_BAD_METADATA', (err as Error).message, { cause: err });
  }
}
