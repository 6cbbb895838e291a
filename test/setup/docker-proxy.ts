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
 * A real HTTP proxy on a unix socket in front of the Docker engine, so tests can watch what the backend
 * sends (every request line and header) and break its connections the way an engine restart does,
 * without restarting the engine other tests share.
 */
/** A canned answer instead of the engine's: lets tests play a registry pull without a registry. */
export type Intercept = (req: RecordedRequest) => { status: number; body: string } | undefined;

export class DockerProxy {
  readonly requests: RecordedRequest[] = [];
  /** Consulted for every request before it is forwarded. */
  intercept: Intercept | undefined;
  /** Connections refused while down. */
  refused = 0;
  #down = false;
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
    return this.requests.filter(
      (r) => r.method === method && r.url.replace(/^\/v[\d.]+/, '').startsWith(path),
    );
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

  async close(): Promise<void> {
    this.breakConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  #forward(target: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    this.requests.push(recorded);
    const canned = this.intercept?.(recorded);
    if (canned) {
      req.resume();
      res.writeHead(canned.status, { 'content-type': 'application/json' });
      res.end(canned.body);
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
