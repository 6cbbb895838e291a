import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP listener that accepts every connection and never answers: what a wedged engine or API looks
 * like from the client (connect succeeds, the request goes out, nothing comes back). For the Docker
 * engine, test/setup/docker-proxy.ts's stall() does the same in front of the real engine and can recover.
 */
export class StallingServer {
  readonly #sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    server.on('connection', (s) => {
      this.accepted++;
      this.#sockets.add(s);
      s.on('error', () => {});
      // Reads (and drops) the request, so a client that hangs up is seen to close.
      s.resume();
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(): Promise<StallingServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return new StallingServer(server, address.port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections still open: a client that gave up has closed its own. */
  get open(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
