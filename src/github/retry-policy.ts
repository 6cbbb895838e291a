import { proxyStatusOf } from '../net/advice.js';

/**
 * The retry rules of go-retryablehttp's DefaultRetryPolicy and DefaultBackoff as used by the Go client
 * (§3.5). Pure functions, so the arithmetic is tested without a server or a clock.
 */

export interface RetryOptions {
  /** Retries after the first attempt: 4 → at most 5 attempts. */
  retryMax: number;
  /** First backoff in ms. */
  retryWaitMin: number;
  /** Backoff cap in ms (Retry-After is not capped). */
  retryWaitMax: number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({
  retryMax: 4,
  retryWaitMin: 1_000,
  retryWaitMax: 30_000,
});

/** 429, and 0 or ≥ 500 except 501 (Not Implemented will not change on a retry). */
export function isRetryableStatus(status: number, extra: readonly number[] = []): boolean {
  if (extra.includes(status)) return true;
  if (status === 429) return true;
  return status === 0 || (status >= 500 && status !== 501);
}

/**
 * Errors below HTTP are retried (refused, reset, timeouts), except those a retry cannot fix: certificate
 * problems, a bad scheme or header, and errors without a code, which are bugs rather than network trouble.
 */
export function isRetryableTransportError(err: unknown): boolean {
  const codes = errorCodes(err);
  if (codes.length === 0) return false;
  // A proxy that refuses credentials or the destination (407, 403) will refuse the next attempt too;
  // a 5xx from it (the destination down, a gateway timeout) may pass.
  const proxy = proxyStatusOf(err);
  if (proxy !== undefined && proxy < 500) return false;
  return !codes.some((code) => NON_RETRYABLE_CODES.has(code) || CERT_CODE.test(code));
}

const NON_RETRYABLE_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_INVALID_URL',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UND_ERR_REDIRECT_MAX',
]);

/** OpenSSL verification failures: CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, … */
const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/;

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = cur.cause;
  }
  return codes;
}

/** min(retryWaitMin · 2^attempt, retryWaitMax), no jitter; attempt is 0 for the first retry. */
export function backoffWait(attempt: number, opts: RetryOptions): number {
  const wait = opts.retryWaitMin * 2 ** attempt;
  return Number.isFinite(wait) ? Math.min(wait, opts.retryWaitMax) : opts.retryWaitMax;
}

/**
 * Milliseconds a `Retry-After` value asks for: integer seconds or an HTTP-date (a past date means 0).
 * Undefined when absent or unparsable, so the caller falls back to backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^[+-]?\d+$/.test(text)) {
    const seconds = Number(text);
    return seconds < 0 || !Number.isSafeInteger(seconds) ? undefined : seconds * 1000;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/\d{2}:\d{2}:\d{2}/.test(text)) return undefined;
  return Math.max(0, at - now);
}

/** The wait before retry `attempt`: Retry-After on 429/503 exactly, otherwise backoff. */
export function retryWait(
  attempt: number,
  response: { status: number; retryAfter?: string | undefined } | undefined,
  opts: RetryOptions,
  now: number,
): number {
  if (response && (response.status === 429 || response.status === 503)) {
    const requested = parseRetryAfter(response.retryAfter, now);
    if (requested !== undefined) return requested;
  }
  return backoffWait(attempt, opts);
}
