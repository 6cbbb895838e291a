import { randomUUID } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import type { z } from 'zod';
import { delay } from '../../../src/kernel/abort.js';
import type { AnswerWatch } from '../../../src/kernel/answers.js';
import { type Logger, silentLogger } from '../../../src/log.js';
import type { Secret } from '../../../src/secret.js';
import { scrub } from '../../../src/secret.js';
import { VERSION } from '../../../src/version.js';
import {
  DedalusInvalidArgumentError,
  DedalusInvalidResponseError,
  DedalusTransportError,
  httpError,
} from './errors.js';
import {
  DEFAULT_RETRY,
  isRetryableTransportError,
  type RetryPolicy,
  retryDelay,
  retryHintMs,
  shouldRetry,
} from './retry.js';
import { ErrorBody } from './schemas.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface DedalusHttpOptions {
  /** e.g. https://dcs.dedaluslabs.ai (the fake's URL in tests). */
  baseUrl: string;
  apiKey: Secret;
  /** Sent as X-Dedalus-Org-Id when set. */
  orgId?: string | undefined;
  /** undici dispatcher (proxy, custom CA, test agent); default: undici's global one. */
  dispatcher?: Dispatcher | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Per-attempt headers and body timeout in ms (default 30 s). */
  timeoutMs?: number | undefined;
  sleep?: SleepFn | undefined;
  logger?: Logger | undefined;
  newIdempotencyKey?: (() => string) | undefined;
  now?: (() => number) | undefined;
  /** Told whether each request was answered, so a stalled API is named (RunnerBackend.silence). */
  answers?: AnswerWatch | undefined;
}

export interface DedalusRequest<T> {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | undefined> | undefined;
  body?: unknown;
  /** An empty body is parsed as `undefined`, so pass `Schema.optional()` where 204 is fine. */
  schema: z.ZodType<T>;
  signal?: AbortSignal | undefined;
  /** Replays an earlier mutation (a create interrupted by a crash) under its original key. */
  idempotencyKey?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** Resends allowed for this request (default: the client's policy); 0 sends it once. */
  maxRetries?: number | undefined;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * One Dedalus API exchange: bearer auth, an Idempotency-Key on every mutation (the same key on each
 * resend, so a retried create never makes a second machine), bounded retries that honour the
 * server's retry hints, and a zod check of the answer. The key is only ever put in a header.
 */
export class DedalusHttp {
  readonly baseUrl: string;
  readonly retry: RetryPolicy;
  readonly #o: DedalusHttpOptions;
  readonly #sleep: SleepFn;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(opts: DedalusHttpOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new DedalusInvalidArgumentError(
        `invalid dedalus base-url ${JSON.stringify(opts.baseUrl)}: expected e.g. https://dcs.dedaluslabs.ai`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new DedalusInvalidArgumentError(
        `invalid dedalus base-url ${JSON.stringify(opts.baseUrl)}: expected http(s)`,
      );
    }
    if (opts.apiKey.empty)
      throw new DedalusInvalidArgumentError('dedalus api-key is empty: set it or DEDALUS_API_KEY');
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#o = opts;
    this.#sleep = opts.sleep ?? delay;
    this.#log = opts.logger ?? silentLogger;
    this.#now = opts.now ?? Date.now;
  }

  async send<T>(req: DedalusRequest<T>): Promise<T> {
    const path = withQuery(req.path, req.query);
    const mutation = req.method !== 'GET';
    const key = mutation ? (req.idempotencyKey ?? (this.#o.newIdempotencyKey ?? randomUUID)()) : undefined;
    const headers = this.#headers(req.headers, key, req.body !== undefined);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    for (let attempt = 0; ; attempt++) {
      req.signal?.throwIfAborted();
      let res: RawResponse | undefined;
      let failure: unknown;
      try {
        res = await this.#attempt(req.method, path, headers, body, req.signal);
      } catch (err) {
        // Once the caller gave up, surface their reason rather than a network error.
        req.signal?.throwIfAborted();
        if (!isRetryableTransportError(err))
          throw new DedalusTransportError(req.method, path, attempt + 1, err);
        failure = err;
      }
      if (res && res.status >= 200 && res.status < 300) return this.#parse(req, path, res);
      const errBody = res ? parseErrorBody(res.text) : undefined;
      const again = res ? shouldRetry(res.status, errBody, res.headers) : true;
      if (!again || attempt >= (req.maxRetries ?? this.retry.maxRetries)) {
        if (!res) throw new DedalusTransportError(req.method, path, attempt + 1, failure);
        throw failedWith(req.method, path, res.status, res.text, attempt + 1);
      }
      const hint = res ? retryHintMs(errBody, res.headers, this.#now()) : undefined;
      const wait = retryDelay(attempt, hint, this.retry);
      this.#log.debug(
        {
          method: req.method,
          path,
          status: res?.status,
          errorCode: errBody?.error_code,
          attempt: attempt + 1,
          waitMs: wait,
        },
        'dedalus request retried',
      );
      await this.#sleep(wait, req.signal);
    }
  }

  /** Opens a long-lived GET (SSE) and yields its body as text; no retries, the caller falls back to polling. */
  async *stream(
    path: string,
    signal: AbortSignal,
    extra: Record<string, string> = {},
  ): AsyncIterable<string> {
    const res = await request(`${this.baseUrl}${path}`, {
      method: 'GET',
      headers: this.#headers({ accept: 'text/event-stream', ...extra }, undefined, false),
      signal,
      dispatcher: this.#o.dispatcher,
      headersTimeout: this.#o.timeoutMs ?? 30_000,
      bodyTimeout: 0,
    });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw failedWith('GET', path, res.statusCode, await res.body.text(), 1);
    }
    res.body.setEncoding('utf8');
    for await (const chunk of res.body) yield chunk as string;
  }

  #headers(
    extra: Record<string, string> | undefined,
    key: string | undefined,
    hasBody: boolean,
  ): Record<string, string> {
    const h: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `runner/${VERSION}`,
      ...extra,
      authorization: `Bearer ${this.#o.apiKey.reveal()}`,
    };
    if (hasBody) h['content-type'] = 'application/json';
    if (key) h['idempotency-key'] = key;
    if (this.#o.orgId) h['x-dedalus-org-id'] = this.#o.orgId;
    return h;
  }

  async #attempt(
    method: HttpMethod,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const send = () => this.#exchange(method, path, headers, body, signal);
    if (!this.#o.answers) return send();
    // Any status is an answer; a timeout or a broken connection is not, unless the caller gave up.
    return this.#o.answers.track(send, (err) =>
      signal?.aborted
        ? { kind: 'cancelled' }
        : {
            kind: 'unanswered',
            error: `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`,
          },
    );
  }

  async #exchange(
    method: HttpMethod,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const timeout = this.#o.timeoutMs ?? 30_000;
    const res = await request(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      signal,
      dispatcher: this.#o.dispatcher,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    // Always read the whole body: error parsing needs it, and an unread body pins the connection.
    const text = await res.body.text();
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: res.statusCode, headers: flat, text };
  }

  #parse<T>(req: DedalusRequest<T>, path: string, res: RawResponse): T {
    let json: unknown;
    if (res.text.trim() !== '') {
      try {
        json = JSON.parse(res.text) as unknown;
      } catch {
        throw new DedalusInvalidResponseError(req.method, path, res.status, 'body is not JSON');
      }
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'body';
      throw new DedalusInvalidResponseError(
        req.method,
        path,
        res.status,
        `${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data;
  }
}

/** The typed error for an unwanted status, with the server's error_code and (scrubbed) message. */
function failedWith(method: string, path: string, status: number, text: string, attempts: number) {
  const body = parseErrorBody(text);
  return httpError({
    method,
    path,
    status,
    errorCode: body?.error_code,
    serverMessage: scrub((body?.message ?? body?.detail ?? body?.title ?? text).slice(0, 500)),
    retryable: body?.retryable,
    retryAfterMs: body?.retry_after_ms,
    details: body?.details,
    attempts,
  });
}

function parseErrorBody(text: string): ErrorBody | undefined {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function withQuery(path: string, query: DedalusRequest<unknown>['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
