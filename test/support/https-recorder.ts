import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Issued } from './pki.js';

/** One request the server answered. */
export interface RecordedHttpsRequest {
  method: string;
  path: string;
  body: string;
}

/**
 * An HTTPS server on loopback with a certificate of a test CA: what a job behind a proxy calls (an
 * internal service, GHES). It answers every request `ok` and records it, and counts the TCP
 * connections it accepted, for comparison with the proxy's CONNECT log.
 */
export class HttpsRecorder {
  readonly requests: RecordedHttpsRequest[] = [];
  #connections = 0;

  private constructor(private readonly server: Server) {
    server.on('connection', () => {
      this.#connections++;
    });
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.end('ok\n');
      });
    });
  }

  static async start(cert: Issued): Promise<HttpsRecorder> {
    const server = createServer({ key: cert.key, cert: cert.cert });
    const recorder = new HttpsRecorder(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return recorder;
  }

  /** `127.0.0.1:PORT`, as a proxy logs the CONNECT. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return `https://${this.host}`;
  }

  /** TCP connections accepted so far, TLS handshake or not. */
  get connections(): number {
    return this.#connections;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
