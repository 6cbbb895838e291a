import { RunnerError } from '../../../src/kernel/errors.js';
/**
 * Errors of the Dedalus Machines client. Callers switch on the literal `code`, not on `instanceof`
 * (the undici convention), so a class can move without breaking them.
 */

export type DedalusHttpErrorCode =
  | 'DEDALUS_HTTP'
  | 'DEDALUS_NOT_FOUND'
  | 'DEDALUS_CONFLICT'
  | 'DEDALUS_RATE_LIMITED'
  | 'DEDALUS_UNAVAILABLE'
  | 'DEDALUS_AUTH';

export type DedalusErrorCode =
  | DedalusHttpErrorCode
  | 'DEDALUS_INVALID_RESPONSE'
  | 'DEDALUS_TRANSPORT'
  | 'DEDALUS_INVALID_ARGUMENT';

export abstract class DedalusError extends RunnerError {
  abstract override readonly code: DedalusErrorCode;
}

export interface DedalusHttpErrorInit {
  method: string;
  /** Path and query only: the base URL is configuration, and no credential is ever part of a URL. */
  path: string;
  status: number;
  /** The server's `error_code`, e.g. IDEMPOTENCY_KEY_REUSED (undefined for non-JSON bodies). */
  errorCode: string | undefined;
  /** The server's `message` (or RFC 9457 `detail`), truncated. */
  serverMessage: string;
  retryable: boolean | undefined;
  retryAfterMs: number | undefined;
  /** The body's `details` map (strings), e.g. the sleep hold window's `next_sleep_eligible_at`. */
  details?: Readonly<Record<string, string>> | undefined;
  /** How many times the request was sent, retries included. */
  attempts: number;
}

/** A response with a status the caller did not expect. Subclasses narrow `code` by status. */
export class DedalusHttpError extends DedalusError {
  readonly code: DedalusHttpErrorCode = 'DEDALUS_HTTP';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly serverMessage: string;
  readonly retryable: boolean | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, string>> | undefined;
  readonly attempts: number;

  constructor(init: DedalusHttpErrorInit) {
    const fields = [`status=${init.status}`];
    if (init.errorCode) fields.push(`error_code=${JSON.stringify(init.errorCode)}`);
    if (init.attempts > 1) fields.push(`attempts=${init.attempts}`);
    super(
      `request ${init.method} ${init.path} failed(${fields.join(', ')}): ${init.serverMessage || 'no message'}`,
    );
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.serverMessage = init.serverMessage;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.details = init.details;
    this.attempts = init.attempts;
  }
}

export class DedalusNotFoundError extends DedalusHttpError {
  override readonly code = 'DEDALUS_NOT_FOUND' as const;
}

/** 409 (state race, idempotency-key reuse) and 412 (a stale If-Match, should the server still check it). */
export class DedalusConflictError extends DedalusHttpError {
  override readonly code = 'DEDALUS_CONFLICT' as const;
}

export class DedalusRateLimitedError extends DedalusHttpError {
  override readonly code = 'DEDALUS_RATE_LIMITED' as const;
}

/** 502/503/504: a dependency of the API is down; retried, then surfaced. */
export class DedalusUnavailableError extends DedalusHttpError {
  override readonly code = 'DEDALUS_UNAVAILABLE' as const;
}

/** 401/403: the key is wrong, revoked, or lacks access. Never retried. */
export class DedalusAuthError extends DedalusHttpError {
  override readonly code = 'DEDALUS_AUTH' as const;
}

/** Picks the class for a status, so callers can match on a stable code. */
export function httpError(init: DedalusHttpErrorInit): DedalusHttpError {
  switch (init.status) {
    case 401:
    case 403:
      return new DedalusAuthError(init);
    case 404:
      return new DedalusNotFoundError(init);
    case 409:
    case 412:
      return new DedalusConflictError(init);
    case 429:
      return new DedalusRateLimitedError(init);
    case 502:
    case 503:
    case 504:
      return new DedalusUnavailableError(init);
    default:
      return new DedalusHttpError(init);
  }
}

/** A 2xx body that does not match the documented shape: we distrust the backend rather than guess. */
export class DedalusInvalidResponseError extends DedalusError {
  readonly code = 'DEDALUS_INVALID_RESPONSE' as const;
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    detail: string,
  ) {
    super(`request ${method} ${path}: unexpected response (status=${status}): ${detail}`);
  }
}

/** The request never got an HTTP answer (refused, reset, timed out), after retries. */
export class DedalusTransportError extends DedalusError {
  readonly code = 'DEDALUS_TRANSPORT' as const;
  constructor(
    readonly method: string,
    readonly path: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`request ${method} ${path} failed after ${attempts} attempt(s): ${why}`, { cause });
  }
}

export class DedalusInvalidArgumentError extends DedalusError {
  readonly code = 'DEDALUS_INVALID_ARGUMENT' as const;
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === 'DEDALUS_NOT_FOUND';
}
