import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * A canned answer instead of the engine's: lets tests play a registry pull without a registry.
 * `endless`: the body is sent and the response stays open, as a pull of a large image streams progress
 * for minutes (it ends when the client hangs up or the proxy closes).
 */
export type Intercept = (
  req: RecordedRequest,
) => { status: number; body: string; endless?: boolean } | undefined;

/**
 * A real HTTP proxy on a unix socket in front of the Docker engine, so tests can watch what the backend
 * sends (every request line and header), break its connections the way an engine restart does, and
 * stall it the way a wedged engine does (connections accepted, requests read, never answered), without
 * touching the engine other tests share.
 */
export class DockerProxy {
  readonly requests: RecordedRequest[] = [];
  /** Consulted for every request before it is forwarded. */
  intercept: Intercept | undefined;
  /** Connections refused while down. */
  refused = 0;
  #down = false;
  /** Which requests a stall holds: undefined while the engine answers. */
  #stalled: ((req: RecordedRequest) => boolean) | undefined;
  /** Requests read while stalled, each waiting for `recover()` (or its client giving up). */
  readonly #held = new Set<{ req: RecordedRequest; forward: () => void }>();
  readonly #sockets = new Set<Socket>();
  readonly #upstream = new Set<http.ClientRequest>();

  private constructor(
    private readonly server: http.Server,
    readonly socketPath: string,
  ) {}

  /** `target`: the engine socket (default /var/run/docker.sock). */
  static async start(target = '/var/run/docker.sock'): Promise<DockerProxy> {
    const socketPath = join(tmpdir(), `runner-docker-proxy-${randomBytes(4).toString('hex')}.sock`);
    const server = http.createServer();
    const proxy = new DockerProxy(server, socketPath);
    server.on('connection', (s: Socket) => {
      if (proxy.#down) {
        proxy.refused++;
        s.destroy();
        return;
      }
      proxy.#sockets.add(s);
      s.on('close', () => proxy.#sockets.delete(s));
    });
    server.on('request', (req, res) => proxy.#forward(target, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    return proxy;
  }

  /** The `[docker] host` value that goes through this proxy. */
  get host(): string {
    return `unix://${this.socketPath}`;
  }

  /** Requests whose path (without the API version prefix) starts with `path`. */
  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => matches(r, method, path));
  }

  /** Destroys every open connection, both sides: streams in progress end with an error. */
  breakConnections(): void {
    for (const r of this.#upstream) r.destroy();
    for (const s of this.#sockets) s.destroy();
  }

  /** Engine unreachable: open connections are broken and new ones are refused until `up()`. */
  down(): void {
    this.#down = true;
    this.breakConnections();
  }

  up(): void {
    this.#down = false;
  }

  /**
   * A wedged engine: from now on every request (or every one `only` picks) is accepted and read, and
   * never answered, until `recover()`. Streams already flowing (events) go on.
   */
  stall(only: (req: RecordedRequest) => boolean = () => true): void {
    this.#stalled = only;
  }

  /** The engine answers again: held requests whose client still waits are forwarded, in order. */
  recover(): void {
    this.#stalled = undefined;
    const held = [...this.#held];
    this.#held.clear();
    for (const h of held) h.forward();
  }

  /** Requests held by a stall whose client is still waiting for the answer. */
  get waiting(): number {
    return this.#held.size;
  }

  /** Those of the held requests whose path (without the API version prefix) starts with `path`. */
  waitingOn(method: string, path: string): number {
    return [...this.#held].filter((h) => matches(h.req, method, path)).length;
  }

  async close(): Promise<void> {
    this.breakConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  #forward(target: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    this.requests.push(recorded);
    if (this.#stalled?.(recorded)) {
      const held = { req: recorded, forward: () => this.#send(target, recorded, req, res) };
      this.#held.add(held);
      // An unanswered response closes only when its client hangs up.
      res.on('close', () => this.#held.delete(held));
      return;
    }
    this.#send(target, recorded, req, res);
  }

  #send(
    target: string,
    recorded: RecordedRequest,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    const canned = this.intercept?.(recorded);
    if (canned) {
      req.resume();
      res.writeHead(canned.status, { 'content-type': 'application/json' });
      if (canned.endless) res.write(canned.body);
      else res.end(canned.body);
      return;
    }
    const up = http.request(
      // No pooling: each proxied request owns its upstream connection, so breaking one breaks only it.
      { socketPath: target, method: req.method, path: req.url, headers: req.headers, agent: false },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        // The events endpoint sends headers long before its first byte of body.
        res.flushHeaders();
        ures.pipe(res);
        ures.on('error', () => res.destroy());
      },
    );
    this.#upstream.add(up);
    up.on('close', () => this.#upstream.delete(up));
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }
}

/** `req` is `method` on a path (without the API version prefix) that starts with `path`. */
function matches(req: RecordedRequest, method: string, path: string): boolean {
  return req.method === method && req.url.replace(/^\/v[\d.]+/, '').startsWith(path);
}
