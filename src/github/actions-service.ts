import type { z } from 'zod';
import type { Secret } from '../secret.js';
import type { AdminAuth } from './auth.js';
import { responseError } from './error-body.js';
import type { HttpMethod, HttpResponse, HttpTransport } from './transport.js';
import { actionsServiceUrl } from './url.js';
import { decodeBody } from './wire-decoders.js';

export interface ActionsCall {
  method: HttpMethod;
  /** Relative to the Actions service URL, dynamic segments already encoded. */
  path: string;
  query?: Record<string, string>;
  /** Serialized as JSON; omitted when undefined. */
  body?: unknown;
  /** The only status treated as success (§4.1, §5, §10 tables). */
  expect: number;
  signal?: AbortSignal | undefined;
  /** Bearer token other than the admin token (acquirejobs uses the queue token, §6.5). */
  token?: Secret;
}

/** Sends `_apis/…` requests built per §3.1: admin token ensured first, URL joined, common headers. */
export class ActionsService {
  constructor(
    private readonly auth: AdminAuth,
    private readonly transport: HttpTransport,
    private readonly userAgent: () => string,
  ) {}

  /** Sends and returns the response whatever its status. */
  async send(call: Omit<ActionsCall, 'expect'>): Promise<HttpResponse> {
    // Even calls with their own token run the admin check: it also yields the service URL.
    const admin = await this.auth.connection(call.signal);
    const token = call.token ?? admin.token;
    const res = await this.transport.send({
      method: call.method,
      url: actionsServiceUrl(admin.actionsUrl, call.path, call.query),
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token.reveal()}`,
        'User-Agent': this.userAgent(),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: call.signal,
    });
    if (res.status === 401 && token === admin.token) this.auth.invalidate(admin.token);
    return res;
  }

  /** Sends and fails with an ActionsServiceError unless the status is `expect`. */
  async call(call: ActionsCall): Promise<HttpResponse> {
    const res = await this.send(call);
    if (res.status !== call.expect) throw responseError(res);
    return res;
  }

  /** `call`, then the body decoded with `schema`. */
  async json<T extends z.ZodType>(schema: T, call: ActionsCall): Promise<z.output<T>> {
    const res = await this.call(call);
    return decodeBody(schema, res.body, `${res.method} ${res.url}`);
  }
}
