import { proxyStatusOf } from '../../../src/net/advice.js';
import { backoffDelay } from '../../../src/util/backoff.js';
import type { ErrorBody } from './schemas.js';

/**
 * When to resend a request and how long to wait first. Pure functions, so the arithmetic is tested
 * without a server. Mutations are resent with the same Idempotency-Key, which is what makes retrying
 * a POST safe at all.
 */
export interface RetryPolicy {
  /** Resends after the first attempt: 4 → at most 5 attempts. */
  maxRetries: number;
  /** First backoff in ms when the server gives no hint. */
  initialMs: number;
  /** Backoff cap in ms. */
  maxMs: number;
  /** Cap on a server hint (retry_after_ms / Retry-After), so a bogus hint cannot stall us for hours. */
  maxHintMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 4,
  initialMs: 500,
  maxMs: 8_000,
  maxHintMs: 60_000,
});

const RETRY_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504]);

/**
 * 408, 409, 429 and 5xx (except 501) are retried, as the vendor's SDK does, unless the server says
 * otherwise: an explicit `retryable: false` in the body is final whatever the status or headers say,
 * then `x-should-retry` decides. IDEMPOTENCY_KEY_REUSED is a bug on our side: a retry would meet the
 * same answer.
 */
export function shouldRetry(
  status: number,
  body: Partial<ErrorBody> | undefined,
  headers: HeaderMap,
): boolean {
  if (body?.retryable === false) return false;
  const hint = headers['x-should-retry'];
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  if (body?.error_code === 'IDEMPOTENCY_KEY_REUSED') return false;
  return RETRY_STATUSES.has(status);
}

type HeaderMap = Readonly<Record<string, string>>;

/** Milliseconds the server asks us to wait: body `retry_after_ms`, then `retry-after-ms`, then `Retry-After`. */
export function retryHintMs(
  body: Partial<ErrorBody> | undefined,
  headers: HeaderMap,
  now: number,
): number | undefined {
  if (body?.retry_after_ms !== undefined && body.retry_after_ms >= 0) return body.retry_after_ms;
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  return parseRetryAfter(headers['retry-after'], now);
}

/** `Retry-After`: integer seconds or an HTTP-date (a past date means 0). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Delay before resend number `attempt` (0-based): the server's hint when given, else jittered backoff. */
export function retryDelay(attempt: number, hintMs: number | undefined, policy: RetryPolicy): number {
  if (hintMs !== undefined) return Math.min(hintMs, policy.maxHintMs);
  return backoffDelay(attempt, { initial: policy.initialMs, max: policy.maxMs, jitter: 0.2 });
}

/**
 * Failures below HTTP worth another try (reset, refused, timeouts). Errors without a code are bugs,
 * and certificate or argument errors will not heal on a resend.
 */
export function isRetryableTransportError(err: unknown): boolean {
  // A proxy that refuses credentials or the destination (407, 403) refuses the resend too.
  const proxy = proxyStatusOf(err);
  if (proxy !== undefined && proxy < 500) return false;
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (/CERT|SELF_SIGNED|UNABLE_TO_|INVALID_ARG|ERR_INVALID|NOT_SUPPORTED/.test(code)) return false;
      return true;
    }
    cur = cur.cause;
  }
  return false;
}
