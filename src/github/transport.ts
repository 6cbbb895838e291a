import { STATUS_CODES } from 'node:http';
import { type Dispatcher, getGlobalDispatcher, interceptors, request } from 'undici';
import { delay } from '../kernel/abort.js';
import { type Logger, silentLogger } from '../log.js';
import { responseError } from './error-body.js';
import { InvalidArgumentError, RetriesExhaustedError, TransportError } from './errors.js';
import {
  DEFAULT_RETRY,
  isRetryableStatus,
  isRetryableTransportError,
  type RetryOptions,
  retryWait,
} from './retry-policy.js';
import { redactUrl } from './url.js';

/** Waits `ms` or rejects with the signal's reason; tests inject one that records instead of waiting. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface TransportOptions extends Partial<RetryOptions> {
  /** Per-attempt headers and body timeout; must outlast the ~50 s long poll (§3.5). Default 5 min. */
  timeoutMs?: number;
  /**
   * undici dispatcher: the shared pool of the scale set's network setting (proxy, CA; src/net), or a
   * test agent; default: undici's global dispatcher. Redirects are followed on top of it.
   */
  dispatcher?: Dispatcher | undefined;
  sleep?: SleepFn;
  logger?: Logger;
  now?: () => number;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
  /** Statuses retried on top of the default policy (runner-registration: 401 and 403, §2.4). */
  retryStatuses?: readonly number[];
}

export interface HttpResponse {
  method: HttpMethod;
  /** The request URL with credentials removed, for messages. */
  url: string;
  status: number;
  statusText: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/** Go's http.Client stops after 10 redirects; so do we. */
export const MAX_REDIRECTS = 10;

/**
 * GitHub calls follow redirects (a GHES behind a load balancer, a renamed org) with undici's own redirect
 * interceptor rather than a loop here: it keeps the method and body on 307/308 (turning a 301/302 POST and
 * any 303 into a GET, as browsers and Go do), and on a redirect to another origin (scheme, host or port)
 * it drops Authorization, Cookie and Proxy-Authorization, so a PAT or admin token never follows a
 * redirect off the host it was meant for. Past the limit it fails rather than handing a 3xx back.
 */
function followingRedirects(dispatcher: Dispatcher): Dispatcher {
  return dispatcher.compose(
    interceptors.redirect({ maxRedirections: MAX_REDIRECTS, throwOnMaxRedirect: true }),
  );
}

/** One HTTP exchange with the retry, backoff and timeout rules of §3.5. */
export class HttpTransport {
  readonly retry: RetryOptions;
  readonly timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #sleep: SleepFn;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(opts: TransportOptions = {}) {
    this.retry = {
      retryMax: checkCount('retryMax', opts.retryMax ?? DEFAULT_RETRY.retryMax),
      retryWaitMin: checkCount('retryWaitMin', opts.retryWaitMin ?? DEFAULT_RETRY.retryWaitMin),
      retryWaitMax: checkCount('retryWaitMax', opts.retryWaitMax ?? DEFAULT_RETRY.retryWaitMax),
    };
    this.timeoutMs = checkCount('timeoutMs', opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#dispatcher = followingRedirects(opts.dispatcher ?? getGlobalDispatcher());
    this.#sleep = opts.sleep ?? delay;
    this.#logger = opts.logger ?? silentLogger;
    this.#now = opts.now ?? Date.now;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const url = redactUrl(req.url);
    for (let attempt = 0; ; attempt++) {
      req.signal?.throwIfAborted();
      let response: HttpResponse | undefined;
      let failure: unknown;
      try {
        response = await this.#attempt(req, url);
      } catch (err) {
        // Never retry once the caller gave up: surface their reason, not a network error.
        req.signal?.throwIfAborted();
        if (!isRetryableTransportError(err)) throw new TransportError(req.method, url, err);
        failure = err;
      }
      if (response && !isRetryableStatus(response.status, req.retryStatuses)) return response;
      if (attempt >= this.retry.retryMax) {
        const cause = response ? responseError(response) : failure;
        throw new RetriesExhaustedError(req.method, url, attempt + 1, response?.status, cause);
      }
      const retryAfter = response?.headers['retry-after'];
      const wait = retryWait(
        attempt,
        response && { status: response.status, retryAfter },
        this.retry,
        this.#now(),
      );
      this.#logger.debug(
        {
          method: req.method,
          url,
          attempt: attempt + 1,
          status: response?.status,
          err: failure,
          waitMs: wait,
        },
        'retrying request',
      );
      await this.#sleep(wait, req.signal);
    }
  }

  async #attempt(req: HttpRequest, url: string): Promise<HttpResponse> {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
      dispatcher: this.#dispatcher,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    // Always read the whole body: error parsing needs it, and an unread body pins the connection.
    const body = await res.body.bytes();
    return {
      method: req.method,
      url,
      status: res.statusCode,
      statusText: res.statusText || STATUS_CODES[res.statusCode] || '',
      headers: flattenHeaders(res.headers),
      body,
    };
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function checkCount(option: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`invalid ${option}: expected a finite number ≥ 0, got ${value}`);
  }
  return value;
}
