import { RunnerError } from '../kernel/errors.js';
/**
 * Where releases live, as URLs a static file server can answer (GitHub Releases does, and so does the
 * node:http server in the tests):
 *
 *   <base>/latest/download/latest.json          {"version":"1.2.3", …}  — the newest release
 *   <base>/download/v<version>/<asset>          runner-<os>-<arch>.tar.gz, runner-<os>-<arch>, checksums.txt
 *
 * With <base> = https://github.com/<owner>/runner/releases these are GitHub's own redirects, so no API
 * call (and no API rate limit) is involved. `latest.json` is uploaded as an asset of every release.
 * The version is resolved first and every asset is then fetched from that one pinned release, so a
 * release published mid-download cannot pair one release's archive with another's checksums.
 */
export const RELEASE_BASE_URL_ENV = 'RUNNER_RELEASE_BASE_URL';

/**
 * Filled in by whoever publishes releases. Left as a placeholder (never a guessed owner) so an
 * unconfigured build cannot download someone else's binary; `resolveBaseUrl` refuses it.
 */
export const DEFAULT_RELEASE_BASE_URL = 'https://github.com/<owner>/runner/releases';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const METADATA_FILE = 'latest.json';
export const CHECKSUMS_FILE = 'checksums.txt';

export class ReleaseUrlError extends RunnerError {
  readonly code = 'RELEASE_URL' as const;
}

/** Flag, then environment, then the built-in default; trailing slashes dropped. */
export function resolveBaseUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag || env[RELEASE_BASE_URL_ENV] || DEFAULT_RELEASE_BASE_URL;
  if (raw.includes('<owner>')) {
    throw new ReleaseUrlError(
      `this build has no release location configured; pass --base-url or set ${RELEASE_BASE_URL_ENV}, e.g. https://github.com/<owner>/runner/releases`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ReleaseUrlError(
      `release base URL ${JSON.stringify(raw)} is not a URL; expected e.g. https://github.com/<owner>/runner/releases`,
    );
  }
  // As install.sh: checksums.txt comes from the same place as the binary, so over plain http across a
  // network both could be swapped together. Plain http only to this machine (a mirror, a test server).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new ReleaseUrlError(
      `release base URL must start with https:// (plain http:// only to 127.0.0.1, localhost or [::1]), got ${raw}`,
    );
  }
  return raw.replace(/\/+$/, '');
}

export function latestMetadataUrl(base: string): string {
  return `${base}/latest/download/${METADATA_FILE}`;
}

export function assetUrl(base: string, version: string, asset: string): string {
  return `${base}/download/v${encodeURIComponent(version)}/${encodeURIComponent(asset)}`;
}
