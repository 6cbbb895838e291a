import { fetch } from 'undici';
import { networkAdvice } from '../net/advice.js';
import type { NetworkAccess } from '../net/types.js';
import { UpdateError } from './errors.js';

export interface DownloadOptions {
  timeoutMs: number;
  /** Refuse bodies larger than this (a release asset is ~40 MB compressed). */
  maxBytes: number;
  signal?: AbortSignal;
  /** The proxy and CA of the config's top level (or the environment): see src/net. */
  network?: NetworkAccess | undefined;
}

/**
 * GET into memory, with one deadline covering connect, headers and body, and redirects followed
 * (GitHub's /releases/latest/download/… answers with two). Every failure names the URL.
 */
export async function download(url: string, opts: DownloadOptions): Promise<Buffer> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  try {
    const res = await fetch(url, {
      signal,
      redirect: 'follow',
      headers: { 'user-agent': 'runner-update' },
      ...(opts.network ? { dispatcher: opts.network.dispatcher } : {}),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new UpdateError('UPDATE_HTTP', `GET ${url} answered ${res.status} ${res.statusText}`.trim());
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > opts.maxBytes) throw tooLarge(url, opts.maxBytes);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += chunk.length;
      if (size > opts.maxBytes) throw tooLarge(url, opts.maxBytes);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (err instanceof UpdateError) throw err;
    if (timeout.aborted) {
      throw new UpdateError(
        'UPDATE_TIMEOUT',
        `GET ${url} did not finish within ${Math.round(opts.timeoutMs / 1000)} s; check the connection or raise --timeout`,
        { cause: err },
      );
    }
    const advice = opts.network && adviceFor(err, url, opts.network);
    if (advice) {
      throw new UpdateError('UPDATE_NETWORK', `GET ${url} failed: ${advice.detail}; ${advice.hint}`, {
        cause: err,
      });
    }
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new UpdateError('UPDATE_NETWORK', `GET ${url} failed: ${cause}`, { cause: err });
  }
}

function adviceFor(err: unknown, url: string, network: NetworkAccess) {
  return networkAdvice(err, {
    url,
    route: network.route(url),
    urlKey: '--base-url (or RUNNER_RELEASE_BASE_URL)',
    caFile: network.config.caFile?.path,
    useSystemCa: network.config.useSystemCa,
  });
}

function tooLarge(url: string, max: number): UpdateError {
  return new UpdateError(
    'UPDATE_TOO_LARGE',
    `GET ${url}: body is larger than ${Math.round(max / 1024 / 1024)} MiB; refusing it`,
  );
}
