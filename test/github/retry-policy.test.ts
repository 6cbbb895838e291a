import { describe, expect, it } from 'vitest';
import { backoffWait, DEFAULT_RETRY, parseRetryAfter, retryWait } from '../../src/github/index.js';
import { isRetryableStatus, isRetryableTransportError } from '../../src/github/retry-policy.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('retry policy (§3.5)', () => {
  it('defaults: retryMax 4, 1 s … 30 s', () => {
    expect(DEFAULT_RETRY).toEqual({ retryMax: 4, retryWaitMin: 1000, retryWaitMax: 30_000 });
  });

  it('backs off 1, 2, 4, 8, 16 s, then stays at the cap, without jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 60].map((n) => backoffWait(n, DEFAULT_RETRY))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect(backoffWait(3, { ...DEFAULT_RETRY, retryWaitMax: 5000 })).toBe(5000);
    expect(backoffWait(2000, DEFAULT_RETRY)).toBe(30_000);
  });

  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [0, true],
    [501, false],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [409, false],
    [200, false],
  ])('status %i retryable: %s', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
  });

  it('extra statuses (runner-registration 401/403) add to the default policy', () => {
    expect(isRetryableStatus(401, [401, 403])).toBe(true);
    expect(isRetryableStatus(503, [401, 403])).toBe(true);
    expect(isRetryableStatus(404, [401, 403])).toBe(false);
  });

  it('retries network errors but not certificate, scheme or code-less errors', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    expect(isRetryableTransportError(withCode('ECONNREFUSED'))).toBe(true);
    expect(isRetryableTransportError(withCode('ECONNRESET'))).toBe(true);
    expect(isRetryableTransportError(withCode('UND_ERR_SOCKET'))).toBe(true);
    expect(isRetryableTransportError(withCode('UND_ERR_HEADERS_TIMEOUT'))).toBe(true);
    expect(isRetryableTransportError(withCode('CERT_HAS_EXPIRED'))).toBe(false);
    expect(isRetryableTransportError(withCode('SELF_SIGNED_CERT_IN_CHAIN'))).toBe(false);
    expect(isRetryableTransportError(withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))).toBe(false);
    expect(isRetryableTransportError(withCode('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe(false);
    expect(isRetryableTransportError(withCode('UND_ERR_INVALID_ARG'))).toBe(false);
    expect(
      isRetryableTransportError(new Error('wrapped', { cause: withCode('DEPTH_ZERO_SELF_SIGNED_CERT') })),
    ).toBe(false);
    expect(isRetryableTransportError(new TypeError('bug'))).toBe(false);
  });
});

describe('Retry-After (§3.5, §13.17)', () => {
  it('parses integer seconds and HTTP-dates', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:42 GMT', NOW)).toBe(42_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', NOW)).toBe(0);
  });

  it.each([undefined, '', '-1', 'soon', '1.5', '2025-01-01'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it('is honoured exactly, uncapped, on 429 and 503 only', () => {
    expect(retryWait(0, { status: 429, retryAfter: '120' }, DEFAULT_RETRY, NOW)).toBe(120_000);
    expect(retryWait(3, { status: 503, retryAfter: '2' }, DEFAULT_RETRY, NOW)).toBe(2000);
    expect(retryWait(1, { status: 500, retryAfter: '120' }, DEFAULT_RETRY, NOW)).toBe(2000);
    expect(retryWait(2, { status: 503, retryAfter: 'nonsense' }, DEFAULT_RETRY, NOW)).toBe(4000);
    expect(retryWait(0, undefined, DEFAULT_RETRY, NOW)).toBe(1000);
  });
});
