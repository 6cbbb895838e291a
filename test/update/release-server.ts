import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A static release host on 127.0.0.1:0 laid out like GitHub Releases (see src/release/layout.ts):
 * `/releases/download/v<ver>/<asset>` from `<dir>/v<ver>/<asset>`, and `/releases/latest/download/<asset>`
 * answered with a 302 to the latest version, as GitHub does.
 */
export class ReleaseServer {
  readonly requests: string[] = [];
  /** Version `/latest/` redirects to. */
  latest = '0.0.0';
  /** Paths (suffix match) that get headers and then no body, to exercise timeouts. */
  readonly stall = new Set<string>();
  #server: Server;
  readonly #open = new Set<ServerResponse>();

  private constructor(
    readonly dir: string,
    server: Server,
  ) {
    this.#server = server;
  }

  static async start(dir: string): Promise<ReleaseServer> {
    let self: ReleaseServer | undefined;
    const server = createServer((req, res) => void self?.handle(req, res));
    self = new ReleaseServer(dir, server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/releases`;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push(`${req.method} ${path}`);
    const latest = /^\/releases\/latest\/download\/([^/]+)$/.exec(path);
    if (latest) {
      res
        .writeHead(302, { location: `/releases/download/v${this.latest}/${encodeURIComponent(latest[1]!)}` })
        .end();
      return;
    }
    const asset = /^\/releases\/download\/(v[^/]+)\/([^/]+)$/.exec(path);
    const file = asset ? join(this.dir, asset[1]!, asset[2]!) : undefined;
    const info = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': info.size });
    if ([...this.stall].some((s) => path.endsWith(s))) {
      this.#open.add(res);
      res.flushHeaders();
      return;
    }
    createReadStream(file).pipe(res);
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
