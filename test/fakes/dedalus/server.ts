import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeApiError } from './api-error.js';
import type { FakeFaults } from './faults.js';
import { handle, matchRoute, type RouteContext, type RouteMatch } from './routes.js';
import { machineJson } from './serialize.js';
import type { RecordedRequest } from './types.js';

interface StoredAnswer {
  fingerprint: string;
  status: number;
  body: string;
}

export interface ServerDeps {
  apiKey: string;
  ctx: RouteContext;
  faults: FakeFaults;
  requests: RecordedRequest[];
  /** Answers to mutations by Idempotency-Key. */
  idempotency: Map<string, StoredAnswer>;
}

/**
 * The HTTP side of the fake: bearer auth, Idempotency-Key rules (required on mutations; same key and
 * body → the same answer; same key, other body → 409 IDEMPOTENCY_KEY_REUSED), injected faults, and a
 * log of every request for assertions. The model behind it lives in machines.ts and executions.ts.
 */
export async function serve(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const method = req.method ?? 'GET';
  const raw = await readBody(req);
  const query = Object.fromEntries(url.searchParams);
  const r = matchRoute(method, url.pathname);
  const key = header(req, 'idempotency-key');
  const rec: RecordedRequest = {
    method,
    path: url.pathname,
    query,
    route: r?.route ?? 'unknown',
    machineId: r?.machineId,
    idempotencyKey: key,
    authorized: authorized(req, deps.apiKey),
    body: safeJson(raw),
    status: 0,
    at: Date.now(),
  };
  deps.requests.push(rec);
  const send = (status: number, body: string, headers: Record<string, string> = {}) => {
    rec.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
  const fail = (e: FakeApiError, headers: Record<string, string> = {}) =>
    send(e.status, JSON.stringify(e.body()), headers);

  if (!r) return fail(new FakeApiError(404, 'NOT_FOUND', `no route ${method} ${url.pathname}`));
  if (!rec.authorized) return fail(new FakeApiError(401, 'UNAUTHORIZED', 'missing or invalid API key'));
  // Faults come before idempotency, as a gateway or a failing dependency would answer: a resend of a
  // committed create can still meet a 503.
  const fault = deps.faults.take(r.route);
  if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
  if (fault && (fault.kind ?? 'error') === 'error') {
    const status = fault.status ?? 503;
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
    if (fault.retryAfterMsHeader !== undefined) headers['retry-after-ms'] = fault.retryAfterMsHeader;
    const code =
      fault.errorCode ??
      (status === 429 ? 'RATE_LIMITED' : status === 409 ? 'STATE_CONFLICT' : 'UNAVAILABLE');
    return fail(
      new FakeApiError(
        status,
        code,
        'injected fault',
        fault.retryable ?? true,
        fault.retryAfterMs,
        fault.details,
      ),
      headers,
    );
  }
  const mutation = method !== 'GET';
  const fingerprint = `${method} ${url.pathname} ${raw}`;
  if (mutation) {
    if (!key)
      return fail(new FakeApiError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'Idempotency-Key header is required'));
    const stored = deps.idempotency.get(key);
    if (stored && stored.fingerprint !== fingerprint) {
      return fail(
        new FakeApiError(409, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key was used with a different request'),
      );
    }
    if (stored) return send(stored.status, stored.body, { 'idempotent-replayed': 'true' });
  }
  if (r.route === 'machines.watch') return watch(deps.ctx, r, rec, res);

  let answer: { status: number; body: string };
  try {
    let parsed: unknown;
    if (raw !== '') {
      parsed = safeJson(raw);
      if (parsed === undefined) throw new FakeApiError(400, 'INVALID_JSON', 'body is not JSON');
    }
    const out = handle(deps.ctx, r, query, parsed);
    answer = { status: out.status, body: JSON.stringify(out.body) };
  } catch (err) {
    if (!(err instanceof FakeApiError)) throw err;
    return fail(err);
  }
  if (mutation && key) deps.idempotency.set(key, { fingerprint, ...answer });
  if (fault?.kind === 'drop-response') {
    rec.status = -1;
    res.socket?.destroy();
    return;
  }
  send(answer.status, answer.body);
}

/** SSE: the current state at once, then every transition, closed when the desired state is reached. */
function watch(ctx: RouteContext, r: RouteMatch, rec: RecordedRequest, res: ServerResponse): void {
  let m: ReturnType<RouteContext['machines']['get']>;
  try {
    m = ctx.machines.retrieve(r.machineId ?? '');
  } catch (err) {
    const e = err as FakeApiError;
    rec.status = e.status;
    res.writeHead(e.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(e.body()));
    return;
  }
  rec.status = 200;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const target = m;
  const push = () => {
    res.write(`event: status\nid: ${target.revision}\ndata: ${JSON.stringify(machineJson(target))}\n\n`);
    if (target.phase === target.desired || target.phase === 'failed') {
      off();
      res.end();
    }
  };
  const off = ctx.machines.onChange((changed) => {
    if (changed === target) push();
  });
  res.on('close', off);
  push();
}

function authorized(req: IncomingMessage, apiKey: string): boolean {
  const auth = header(req, 'authorization');
  if (auth !== undefined) return auth === `Bearer ${apiKey}`;
  return header(req, 'x-api-key') === apiKey;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safeJson(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
