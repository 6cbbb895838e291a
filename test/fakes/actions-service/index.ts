import type { AuthState, ResolvedOptions } from './context.js';
import { FakeFaults } from './faults.js';
import { issueAdminToken } from './github-routes.js';
import { completeJob, queueJob } from './jobs.js';
import { type FakeRunnerLink, runnerLink } from './runner-link.js';
import { FakeServer, MOVED } from './server.js';
import { FakeState } from './state.js';
import { JwtSigner, randomToken } from './tokens.js';
import type {
  FakeJob,
  FakeOptions,
  FakeRunner,
  FakeScaleSet,
  FakeSession,
  GhesMode,
  QueueJobOptions,
  RecordedRequest,
} from './types.js';

export type { FakeFaults, InjectedFault, MalformedKind } from './faults.js';
export type { ClaimAnswer, FakeRunnerLink } from './runner-link.js';
export type * from './types.js';

/**
 * A stateful fake of GitHub's Actions service for runner scale sets (docs/protocol.md §11.5) over
 * real HTTP, with fault switches, and the service side of the fake runner (test/fakes/CONTRACT.md).
 */
export class FakeActionsService {
  readonly faults = new FakeFaults();
  /** Every request, in arrival order (none kept with `recordRequests: false`). */
  readonly requests: RecordedRequest[] = [];
  readonly #requestCounts: Record<string, number> = {};
  readonly pat: string;
  readonly #state: FakeState;
  readonly #auth: AuthState;
  readonly #opts: ResolvedOptions;
  readonly #server: FakeServer;
  #url = '';
  #closed = false;

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
      leaseGraceMs: opts.leaseGraceMs ?? 10_000,
      recordRequests: opts.recordRequests ?? true,
      app: opts.app,
      tls: opts.tls,
    };
    this.#auth = {
      signer: new JwtSigner(),
      pats: new Set(opts.pats ?? [this.pat]),
      installationTokens: new Set(),
      registrationTokens: new Map(),
      revokedAdmin: new Set(),
      issuedAdmin: new Set(),
      adminTtlSec: this.#opts.adminTokenTtlSec,
    };
    this.#state = new FakeState(() => this.#url);
    this.#state.ghes = opts.ghes;
    this.#server = new FakeServer({
      state: this.#state,
      faults: this.faults,
      auth: this.#auth,
      opts: this.#opts,
      requests: this.requests,
      requestCounts: this.#requestCounts,
      baseUrl: () => this.#url,
    });
    this.#wireFaults();
  }

  #wireFaults(): void {
    const state = this.#state;
    this.faults.onExpireQueueTokens = () => {
      for (const s of state.sessions.values()) state.rotateQueueToken(s);
    };
    this.faults.onExpireAdminTokens = () => {
      for (const jti of this.#auth.issuedAdmin) this.#auth.revokedAdmin.add(jti);
      // Short-lived successors make the client's exp-based refresh (refresh when exp < now + 60 s) fire.
      this.#auth.adminTtlSec = 30;
    };
    this.faults.onReleasePolls = () => state.changed();
    this.faults.onDown = () => this.#server.cutServiceConnections();
    this.faults.onClear = () => {
      this.#auth.adminTtlSec = this.#opts.adminTokenTtlSec;
    };
  }

  async listen(): Promise<this> {
    const port = await this.#server.listen(this.#opts.host, this.#opts.port);
    this.#url = `${this.#opts.tls ? 'https' : 'http'}://${this.#opts.host}:${port}`;
    return this;
  }

  /** `http://HOST:PORT` (`https://` with `tls`), no trailing slash. */
  get url(): string {
    return this.#url;
  }

  /** An origin-like base whose every path serves the same routes: a same-host redirect target. */
  get movedUrl(): string {
    return `${this.#url}${MOVED}`;
  }

  /** TCP connections the fake accepted so far. */
  get connections(): number {
    return this.#server.connections;
  }

  /** A config URL (§1.1): `my-org`, `my-org/my-repo` or `enterprises/my-enterprise`. */
  configUrl(path = 'my-org'): string {
    return `${this.#url}/${path}`;
  }

  /** How many requests arrived, by route (`fake-runner`, `unknown` included); counted even when not recorded. */
  requestCounts(): Record<string, number> {
    return { ...this.#requestCounts };
  }

  /**
   * The fake runner protocol in process, for a runner living in this process: what the runner holding
   * this JIT config would do over HTTP, without the HTTP (see runner-link.ts).
   */
  runnerLink(encodedJitConfig: string): FakeRunnerLink {
    return runnerLink(this.#state, this.#opts, encodedJitConfig);
  }

  /** A valid admin JWT, for tests that call Actions routes without walking the auth chain. */
  adminToken(): string {
    return issueAdminToken({ auth: this.#auth });
  }

  scaleSets(): FakeScaleSet[] {
    return [...this.#state.scaleSets.values()];
  }

  /** Active sessions (idle ones past `sessionIdleTimeoutMs` are dropped first). */
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

  /**
   * GHES label behaviour from now on (FakeOptions.ghes); undefined behaves as github.com. Scale sets
   * keep the labels they have until their next create or update.
   */
  ghes(mode: GhesMode | undefined): void {
    this.#state.ghes = mode;
  }

  /** Adds a runner group; returns its id. */
  addRunnerGroup(name: string): number {
    return this.#state.addGroup(name).id;
  }

  /**
   * Queues a job for the scale set named `scaleSet`, else the first whose labels cover `labels`, else
   * the only scale set there is. Labels compare case-insensitively, as GitHub's do.
   */
  queueJob(opts: QueueJobOptions = {}): FakeJob {
    const sets = this.scaleSets();
    const want = (opts.labels ?? []).map((l) => l.toLowerCase());
    const ss = opts.scaleSet
      ? sets.find((s) => s.name.toLowerCase() === opts.scaleSet!.toLowerCase())
      : opts.labels
        ? sets.find((s) => want.every((l) => s.labels.some((x) => x.name.toLowerCase() === l)))
        : sets.length === 1
          ? sets[0]
          : undefined;
    if (!ss) {
      throw new Error(
        `queueJob: no scale set for ${opts.scaleSet ?? opts.labels?.join(',') ?? '(no name or labels)'}`,
      );
    }
    return queueJob(this.#state, ss, opts);
  }

  /** Cancels a job: JobCompleted with result `canceled`; a runner running it loses its registration. */
  cancelJob(requestId: number): void {
    const job = this.#state.jobs.get(requestId);
    if (!job) throw new Error(`cancelJob: no job ${requestId}`);
    completeJob(this.#state, job, 'canceled');
  }

  /** Calls `listener` after every state change or request; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#state.on('change', listener);
    return () => this.#state.off('change', listener);
  }

  /** Resolves with `fn()`'s first value other than undefined/false, re-checking on every state change or request. */
  waitFor<T>(fn: () => T | undefined | false, opts: { timeout?: number; what?: string } = {}): Promise<T> {
    const state = this.#state;
    const timeout = opts.timeout ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      let last: T | undefined | false;
      const check = (): boolean => {
        try {
          last = fn();
        } catch (err) {
          cleanup();
          reject(err);
          return true;
        }
        if (last === undefined || last === false) return false;
        cleanup();
        resolve(last);
        return true;
      };
      const onChange = () => void check();
      const timer = setTimeout(() => {
        if (check()) return;
        cleanup();
        const seen = JSON.stringify(last);
        reject(
          new Error(
            `timed out after ${timeout} ms waiting for ${opts.what ?? 'condition'} (last seen: ${seen})`,
          ),
        );
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        state.off('change', onChange);
      };
      state.on('change', onChange);
      check();
    });
  }

  /** Ends held requests, destroys sockets and cancels timers; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#server.close();
    this.#state.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export async function startFakeActionsService(opts: FakeOptions = {}): Promise<FakeActionsService> {
  return new FakeActionsService(opts).listen();
}
