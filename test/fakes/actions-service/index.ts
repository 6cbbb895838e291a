import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pollUntil } from '../../../src/util/poll-until.js';
import type { AuthState, RouteContext } from './context.js';
import { FakeFaults } from './faults.js';
import { issueAdminToken } from './github-routes.js';
import { readBody, send } from './http-util.js';
import { classify, dispatch } from './router.js';
import { FakeState } from './state.js';
import { JwtSigner, randomToken } from './tokens.js';
import type {
  FakeJob,
  FakeOptions,
  FakeRunner,
  FakeScaleSet,
  FakeSession,
  RecordedRequest,
} from './types.js';

export type { FakeFaults } from './faults.js';
export type * from './types.js';

/**
 * A stateful fake of GitHub's Actions service for runner scale sets (scaleset-protocol.md §11.5),
 * over real HTTP, with fault injection, and the part of the runner (test/fakes/CONTRACT.md).
 */
export class FakeActionsService {
  readonly faults = new FakeFaults();
  readonly requests: RecordedRequest[] = [];
  readonly pat: string;
  readonly #state: FakeState;
  readonly #auth: AuthState;
  readonly #opts: RouteContext['opts'];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #url = '';

  constructor(opts: FakeOptions = {}) {
    this.pat = opts.pats?.[0] ?? randomToken('ghp');
    this.#opts = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      holdMs: opts.holdMs ?? 50_000,
      adminTokenTtlSec: opts.adminTokenTtlSec ?? 3600,
      runnerClaimHoldMs: opts.runnerClaimHoldMs ?? 25_000,
      sessionIdleTimeoutMs: opts.sessionIdleTimeoutMs ?? 60_000,
      reannounceMs: opts.reannounceMs ?? 5_000,
      app: opts.app,
    };
    this.#auth = {
      signer: new JwtSigner(),
      pats: new Set(opts.pats ?? [this.pat]),
      installationTokens: new Set(),
      registrationTokens: new Set(),
      revokedAdmin: new Set(),
      issuedAdmin: new Set(),
      adminTtlSec: this.#opts.adminTokenTtlSec,
    };
    this.#state = new FakeState(() => this.#url);
    this.faults.onExpireQueueTokens = () => {
      for (const s of this.#state.sessions.values()) s.queueToken = randomToken('qt-expired-rotated');
      this.#state.changed();
    };
    this.faults.onExpireAdminTokens = () => {
      for (const jti of this.#auth.issuedAdmin) this.#auth.revokedAdmin.add(jti);
      this.#auth.adminTtlSec = 30;
    };
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://${this.#opts.host}:${port}`;
    return this;
  }

  get url(): string {
    return this.#url;
  }

  configUrl(path = 'my-org'): string {
    return `${this.#url}/${path}`;
  }

  /** A valid admin JWT, for tests that call the Actions routes directly. */
  adminToken(): string {
    return issueAdminToken({ auth: this.#auth });
  }

  scaleSets(): FakeScaleSet[] {
    return [...this.#state.scaleSets.values()];
  }

  sessions(): FakeSession[] {
    this.#state.expireIdleSessions(this.#opts.sessionIdleTimeoutMs);
    return [...this.#state.sessions.values()];
  }

  runners(): FakeRunner[] {
    return [...this.#state.runners.values()];
  }

  jobs(): FakeJob[] {
    return [...this.#state.jobs.values()];
  }

  statistics(scaleSetId: number) {
    return this.#state.statistics(scaleSetId);
  }

  addRunnerGroup(name: string): number {
    const id = Math.max(...this.#state.groups.map((g) => g.id)) + 1;
    this.#state.groups.push({ id, name, size: 0, isDefaultGroup: false });
    return id;
  }

  /** Queues a job for the scale set named `scaleSet`, or the one whose labels cover `labels`. */
  queueJob(
    opts: { scaleSet?: string; labels?: string[]; script?: string; durationMs?: number } = {},
  ): FakeJob {
    const sets = this.scaleSets();
    const ss = opts.scaleSet
      ? sets.find((s) => s.name === opts.scaleSet)
      : sets.find((s) => (opts.labels ?? []).every((l) => s.labels.some((x) => x.name === l)));
    if (!ss) throw new Error(`no scale set for job (${opts.scaleSet ?? (opts.labels ?? []).join(',')})`);
    const secs = (opts.durationMs ?? 0) / 1000;
    const script = opts.script ?? (secs > 0 ? `sleep ${secs}` : 'true');
    return this.#state.queueJob(ss.id, opts.labels ?? [ss.name], script);
  }

  /**
   * Resolves when `fn` returns a value: re-checked on every state change, and every 20 ms for
   * conditions on things outside the fake (a scaler's records, a container's state).
   */
  waitFor<T>(fn: () => T | undefined | false, opts: { timeout?: number; what?: string } = {}): Promise<T> {
    const check = () => {
      const v = fn();
      return v === undefined || v === false ? undefined : v;
    };
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first !== undefined) {
        resolve(first);
        return;
      }
      const timeout = opts.timeout ?? 10_000;
      const onChange = () => {
        const v = check();
        if (v !== undefined) {
          cleanup();
          resolve(v);
        }
      };
      const ticker = setInterval(onChange, 20);
      const timer = setTimeout(() => {
        cleanup();
        // One last look, then a message that says what was awaited.
        pollUntil(check, { timeout: 0, what: opts.what }).then(resolve, reject);
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(ticker);
        this.#state.off('change', onChange);
      };
      this.#state.on('change', onChange);
    });
  }

  async close(): Promise<void> {
    this.faults.releasePolls();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req).catch(() => '');
    const found = classify(url.pathname);
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      at: Date.now(),
      route: found?.route.name ?? 'unknown',
    });
    this.#state.changed();
    if (this.faults.isDown) {
      req.socket.destroy();
      return;
    }
    if (!found) {
      send(res, 'github', 404, { message: `no route for ${req.method} ${url.pathname}` });
      return;
    }
    const fault = this.faults.take(found.route.name);
    if (fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.contentType) headers['content-type'] = fault.contentType;
      const text =
        fault.body ??
        JSON.stringify({ typeName: 'FakeInjectedException', message: `injected ${fault.status}` });
      send(res, found.route.api, fault.status, fault.bom ? `\uFEFF${text}` : text, {
        'content-type': 'application/json',
        ...headers,
      });
      return;
    }
    const ctx: RouteContext = {
      req,
      res,
      path: url.pathname,
      query: url.searchParams,
      body,
      state: this.#state,
      faults: this.faults,
      opts: this.#opts,
      auth: this.#auth,
      baseUrl: this.#url,
    };
    try {
      await dispatch(ctx, found.route, found.match);
    } catch (err) {
      send(res, found.route.api, 500, { message: `fake failed: ${(err as Error).message}` });
    }
  }
}

export async function startFakeActionsService(opts: FakeOptions = {}): Promise<FakeActionsService> {
  return new FakeActionsService(opts).listen();
}
