import { raceAbort } from '../kernel/abort.js';
import { type Logger, silentLogger } from '../log.js';
import { forgetSecret, registerSecret, Secret } from '../secret.js';
import { type ConfigUrl, gitHubApiUrl, registrationTokenPath } from './config-url.js';
import { responseError } from './error-body.js';
import { InvalidResponseError, TokenRefreshError } from './errors.js';
import { createAppJwt, jwtExpiresAt } from './jwt.js';
import type { HttpResponse, HttpTransport } from './transport.js';
import { adminConnectionSchema, decodeBody, tokenSchema } from './wire-decoders.js';

export type GitHubCredentials =
  | { kind: 'pat'; token: Secret }
  | { kind: 'app'; clientId: string; installationId: number; privateKey: Secret };

/** Where and how to call the Actions service (§2.4). */
export interface AdminConnection {
  /** Opaque base URL returned by runner-registration, e.g. `https://…/rest/` or `<fake>/tenant/123/`. */
  readonly actionsUrl: string;
  readonly token: Secret;
  /** `exp` of the admin JWT, epoch ms. */
  readonly expiresAt: number;
}

export interface AdminAuthOptions {
  config: ConfigUrl;
  credentials: GitHubCredentials;
  transport: HttpTransport;
  userAgent: () => string;
  now?: () => number;
  logger?: Logger;
}

/** Refresh this long before `exp`, so a token never expires between the check and the request. */
const REFRESH_MARGIN_MS = 60_000;

/**
 * Owns the admin-token chain of §2: (App JWT → installation token) → registration token →
 * runner-registration. Lazy, single-flight, and a failed refresh leaves the previous connection in use.
 */
export class AdminAuth {
  readonly #opts: AdminAuthOptions;
  readonly #now: () => number;
  readonly #logger: Logger;
  #current: AdminConnection | undefined;
  #inflight: Promise<AdminConnection> | undefined;

  constructor(opts: AdminAuthOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#logger = opts.logger ?? silentLogger;
  }

  /** The connection in use, without refreshing. */
  get current(): AdminConnection | undefined {
    return this.#current;
  }

  /**
   * Forgets `token` if it is still the current one, so the next call re-runs the chain. The spec has
   * no reactive refresh (§2.5) and the failed call still fails; but without this, a token revoked
   * server-side would be reused until its `exp`, failing every call for up to an hour.
   */
  invalidate(token: Secret): void {
    if (this.#current?.token === token) {
      this.#logger.info('admin token rejected; the next call fetches a new one');
      this.#current = { ...this.#current, expiresAt: 0 };
    }
  }

  /** A connection valid for at least another minute, running the chain first when needed. */
  async connection(signal?: AbortSignal): Promise<AdminConnection> {
    signal?.throwIfAborted();
    const current = this.#current;
    if (current && this.#now() + REFRESH_MARGIN_MS <= current.expiresAt) return current;
    // The chain runs unbound to any one caller's signal: callers share it, and one caller
    // giving up must not fail the others. Each caller still stops waiting on its own abort.
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return raceAbort(this.#inflight, signal);
  }

  async #refresh(): Promise<AdminConnection> {
    // Tokens minted for one chain, and the admin token it replaces, stop being scrubbed afterwards:
    // nothing keeps them, and an ever-growing registry would slow every log line of a long-lived daemon.
    const spent: string[] = [];
    try {
      const githubToken = await this.#githubToken(spent);
      const registrationToken = await this.#registrationToken(githubToken, spent);
      const next = await this.#register(registrationToken);
      const previous = this.#current?.token.reveal();
      if (previous !== undefined && previous !== next.token.reveal()) spent.push(previous);
      this.#current = next;
      this.#logger.debug(
        { actionsUrl: next.actionsUrl, expiresAt: new Date(next.expiresAt) },
        'admin token issued',
      );
      return next;
    } catch (err) {
      throw new TokenRefreshError(err);
    } finally {
      for (const secret of spent) forgetSecret(secret);
    }
  }

  async #githubToken(spent: string[]): Promise<Secret> {
    const { credentials, config } = this.#opts;
    if (credentials.kind === 'pat') return credentials.token;
    const jwt = createAppJwt(credentials.clientId, credentials.privateKey.reveal(), this.#now());
    registerSecret(jwt);
    spent.push(jwt);
    const res = await this.#post(
      gitHubApiUrl(config, `/app/installations/${credentials.installationId}/access_tokens`),
      { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/vnd.github+json' },
      '',
    );
    if (res.status !== 201) throw responseError(res, 'failed to get access token for GitHub App auth');
    const { token } = decodeBody(tokenSchema, res.body, describe(res));
    return requiredToken(token, 'installation access token', spent);
  }

  async #registrationToken(githubToken: Secret, spent: string[]): Promise<Secret> {
    const { config } = this.#opts;
    const res = await this.#post(
      gitHubApiUrl(config, registrationTokenPath(config.scope)),
      { Authorization: `Bearer ${githubToken.reveal()}`, 'Content-Type': 'application/vnd.github.v3+json' },
      '',
    );
    if (res.status !== 201) throw responseError(res, 'failed to get runner registration token');
    const { token } = decodeBody(tokenSchema, res.body, describe(res));
    return requiredToken(token, 'runner registration token', spent);
  }

  async #register(registrationToken: Secret): Promise<AdminConnection> {
    const { config } = this.#opts;
    const res = await this.#post(
      gitHubApiUrl(config, '/actions/runner-registration'),
      { Authorization: `RemoteAuth ${registrationToken.reveal()}`, 'Content-Type': 'application/json' },
      // Go's json.Encoder output: a trailing newline (§2.4).
      `${JSON.stringify({ url: config.url, runner_event: 'register' })}\n`,
      [401, 403],
    );
    if (res.status < 200 || res.status > 299)
      throw responseError(res, 'failed to register runner scale set client');
    const { url, token } = decodeBody(adminConnectionSchema, res.body, describe(res));
    if (!url) throw new InvalidResponseError('actions service admin connection missing url');
    if (!token) throw new InvalidResponseError('actions service admin connection missing token');
    const secret = new Secret(token);
    let expiresAt: number;
    try {
      expiresAt = jwtExpiresAt(token);
    } catch (err) {
      throw new InvalidResponseError(
        `failed to get admin token expire at on refresh: ${(err as Error).message}`,
      );
    }
    return { actionsUrl: url, token: secret, expiresAt };
  }

  #post(
    url: string,
    headers: Record<string, string>,
    body: string,
    retryStatuses?: number[],
  ): Promise<HttpResponse> {
    return this.#opts.transport.send({
      method: 'POST',
      url,
      headers: { ...headers, 'User-Agent': this.#opts.userAgent() },
      body,
      ...(retryStatuses ? { retryStatuses } : {}),
    });
  }
}

function requiredToken(token: string, what: string, spent: string[]): Secret {
  if (!token) throw new InvalidResponseError(`${what} missing from response`);
  spent.push(token);
  return new Secret(token);
}

function describe(res: HttpResponse): string {
  return `${res.method} ${res.url}`;
}
