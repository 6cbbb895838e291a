import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { AuthState, ResolvedOptions, RouteContext } from './context.js';
import type { FakeFaults, InjectedFault } from './faults.js';
import { exception, readBody, send } from './http-util.js';
import { classify, dispatch, type Route } from './router.js';
import type { FakeState } from './state.js';
import type { FakeRoute, RecordedRequest } from './types.js';

/** The prefix under which every route is served again (see FakeActionsService.movedUrl). */
export const MOVED = '/moved';

export interface ServerDeps {
  state: FakeState;
  faults: FakeFaults;
  auth: AuthState;
  opts: ResolvedOptions;
  requests: RecordedRequest[];
  /** Requests by route, recorded or not. */
  requestCounts: Record<string, number>;
  baseUrl: () => string;
}

/** The HTTP side of the fake: records every request, applies down/injected faults, then routes. */
export class FakeServer {
  readonly #deps: ServerDeps;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Sockets now carrying a fake-runner request: `down()` spares them (the runner's link is not GitHub's). */
  readonly #runnerSockets = new Set<Socket>();
  #connections = 0;

  constructor(deps: ServerDeps) {
    this.#deps = deps;
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const tls = deps.opts.tls;
    this.#server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
    this.#server.on('connection', (s: Socket) => {
      this.#connections++;
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** TCP connections accepted so far (a proxy test compares them with the proxy's CONNECT log). */
  get connections(): number {
    return this.#connections;
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve());
    });
    return (this.#server.address() as AddressInfo).port;
  }

  /** Destroys every connection except the fake runners' (held long polls included). */
  cutServiceConnections(): void {
    for (const s of this.#sockets) if (!this.#runnerSockets.has(s)) s.destroy();
  }

  /** Ends held requests by destroying every socket, so no test waits on a hold. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { state, faults, requests, requestCounts, opts } = this.#deps;
    const url = new URL(req.url ?? '/', 'http://fake');
    // `/moved/<path>` is `<path>`: a redirect on the same origin needs another URL to send the client to
    // (and a chain of them, `/moved/moved/…`, one more each time, never the same URL twice).
    while (url.pathname.startsWith(`${MOVED}/`)) url.pathname = url.pathname.slice(MOVED.length);
    const body = await readBody(req).catch(() => '');
    const found = classify(url.pathname);
    const route = found?.route.name ?? 'unknown';
    requestCounts[route] = (requestCounts[route] ?? 0) + 1;
    if (opts.recordRequests) {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
        at: Date.now(),
        route,
      });
    }
    state.changed();
    const isRunner = found?.route.api === 'runner';
    if (faults.isDown && !isRunner) {
      req.socket.destroy();
      return;
    }
    if (
      !isRunner &&
      (faults.stalled.has('*') || (found && faults.stalled.has(found.route.name as FakeRoute)))
    ) {
      // Never answered: the socket stays open until the client hangs up or close() destroys it.
      return;
    }
    if (!found) {
      send(res, 'github', 404, { message: `Not Found: ${req.method} ${url.pathname}` });
      return;
    }
    const name = found.route.name;
    if (name === 'fake-runner') {
      this.#runnerSockets.add(req.socket);
      res.on('close', () => this.#runnerSockets.delete(req.socket));
    } else {
      const fault = faults.take(name);
      if (fault) {
        sendFault(res, found.route, fault, req.url ?? '/');
        return;
      }
    }
    const ctx: RouteContext = {
      req,
      res,
      path: url.pathname,
      query: url.searchParams,
      body,
      state,
      faults,
      opts: this.#deps.opts,
      auth: this.#deps.auth,
      baseUrl: this.#deps.baseUrl(),
    };
    try {
      await dispatch(ctx, found.route, found.match);
    } catch (err) {
      send(
        res,
        found.route.api,
        500,
        exception('FakeInternalException', (err as Error).stack ?? String(err)),
      );
    }
  }
}

/** `url`: the request's own path and query, appended to a redirect's origin. */
function sendFault(res: ServerResponse, route: Route, fault: InjectedFault, url: string): void {
  const text =
    fault.body ??
    JSON.stringify(exception('InjectedFaultException', `injected ${fault.status} on ${route.name}`));
  const headers: Record<string, string> = {
    'content-type': fault.contentType ?? 'application/json; charset=utf-8',
  };
  if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
  if (fault.redirectTo !== undefined) headers.location = `${fault.redirectTo}${url}`;
  send(res, route.api, fault.status, fault.bom ? `\uFEFF${text}` : text, headers);
}
