import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pollUntil } from '../../src/util/poll-until.js';
import { unusedPort } from '../cmd/support/config-file.js';
import { findExecutable } from '../setup/network-tools.js';

export interface TinyproxyOptions {
  /** Where its config and access log go. */
  dir: string;
  /** Basic credentials the proxy requires; without, it takes anyone from 127.0.0.1. */
  auth?: { user: string; password: string };
  /** The only ports CONNECT may reach (tinyproxy answers others with 403); default any. */
  connectPorts?: number[];
}

/** One request as the proxy logged it: `CONNECT 127.0.0.1:4443` or `GET http://127.0.0.1:8080/x`. */
export interface ProxyRequest {
  method: string;
  target: string;
}

/**
 * Debian's tinyproxy, on a loopback port, logging every request it receives: the tests read the
 * proxy's own access log to know what went through it, rather than trusting the client's word.
 */
export class Tinyproxy {
  private constructor(
    readonly port: number,
    readonly logFile: string,
    readonly auth: TinyproxyOptions['auth'],
    private readonly child: ChildProcess,
  ) {}

  static async start(opts: TinyproxyOptions): Promise<Tinyproxy> {
    const bin = findExecutable('tinyproxy');
    if (!bin) throw new Error('tinyproxy not found (apt-get install tinyproxy)');
    const port = await unusedPort();
    const logFile = join(opts.dir, `tinyproxy-${port}.log`);
    const conf = join(opts.dir, `tinyproxy-${port}.conf`);
    const lines = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      `LogFile "${logFile}"`,
      // Info logs each request line (CONNECT host:port, or the absolute URL of a plain http request).
      'LogLevel Info',
      'MaxClients 100',
      'Allow 127.0.0.1',
      // No ConnectPort line: CONNECT to any port (the fakes listen on random ones).
      ...(opts.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
    ];
    if (opts.auth) lines.push(`BasicAuth ${opts.auth.user} ${opts.auth.password}`);
    await writeFile(conf, `${lines.join('\n')}\n`);
    const child = spawn(bin, ['-d', '-c', conf], { stdio: 'ignore' });
    // A test process that dies without its afterAll still takes its proxy with it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    const proxy = new Tinyproxy(port, logFile, opts.auth, child);
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
    });
    await pollUntil(
      async () => {
        if (exited !== undefined) throw new Error(`tinyproxy exited with ${exited}: ${await proxy.log()}`);
        return (await proxy.log()).includes('Accepting connections');
      },
      { timeout: 10_000, what: `tinyproxy listening on 127.0.0.1:${port}` },
    );
    return proxy;
  }

  /** `http://127.0.0.1:PORT`, with the credentials when `withAuth`. */
  url(withAuth = false): string {
    const creds =
      withAuth && this.auth
        ? `${encodeURIComponent(this.auth.user)}:${encodeURIComponent(this.auth.password)}@`
        : '';
    return `http://${creds}127.0.0.1:${this.port}`;
  }

  async log(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  /** Every request line the proxy received, in order. */
  async requests(): Promise<ProxyRequest[]> {
    const out: ProxyRequest[] = [];
    for (const m of (await this.log()).matchAll(/Request \(file descriptor \d+\): (\S+) (\S+) HTTP\//g)) {
      out.push({ method: m[1] ?? '', target: m[2] ?? '' });
    }
    return out;
  }

  /** CONNECT requests for `host:port`. */
  async connects(hostPort: string): Promise<number> {
    return (await this.requests()).filter((r) => r.method === 'CONNECT' && r.target === hostPort).length;
  }

  /** SIGTERM, and SIGKILL if it has not exited 5 s later. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
