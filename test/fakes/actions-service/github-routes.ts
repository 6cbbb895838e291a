import { createPublicKey } from 'node:crypto';
import type { RouteContext } from './context.js';
import { bearer, jsonObject, send } from './http-util.js';
import { randomToken, verifyJwt } from './tokens.js';

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
/** GitHub rejects App JWTs that live longer than 10 minutes; a minute of slack for clock skew. */
const MAX_APP_JWT_LIFETIME_SEC = 600 + 60;

/** F1: a GitHub App JWT (RS256, iss = client id, exp in the future) → installation token. */
export function accessToken(ctx: RouteContext, installationId: number): void {
  const app = ctx.opts.app;
  const jwt = bearer(ctx.req);
  const claims = app && jwt ? verifyJwt(jwt, createPublicKey(app.publicKeyPem)) : undefined;
  const now = Math.floor(Date.now() / 1000);
  const exp = Number(claims?.exp);
  if (!app || !claims || String(claims.iss) !== app.clientId) {
    send(ctx.res, 'github', 401, { message: 'A JSON web token could not be decoded' });
    return;
  }
  if (!(exp > now) || exp > now + MAX_APP_JWT_LIFETIME_SEC) {
    send(ctx.res, 'github', 401, {
      message:
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    });
    return;
  }
  if (installationId !== app.installationId) {
    send(ctx.res, 'github', 404, { message: 'Not Found' });
    return;
  }
  const token = randomToken('ghs');
  ctx.auth.installationTokens.add(token);
  send(ctx.res, 'github', 201, { token, expires_at: inAnHour() });
}

/** F2: PAT or installation token → registration token for the scope in the path. */
export function registrationToken(ctx: RouteContext, scopePath: string): void {
  const token = bearer(ctx.req);
  const isInstallation = token !== undefined && ctx.auth.installationTokens.has(token);
  if (!token || !(ctx.auth.pats.has(token) || isInstallation)) {
    send(ctx.res, 'github', 401, { message: 'Bad credentials' });
    return;
  }
  // GitHub Apps cannot register enterprise runners; that takes a PAT.
  if (isInstallation && scopePath.startsWith('enterprises/')) {
    send(ctx.res, 'github', 403, { message: 'Resource not accessible by integration' });
    return;
  }
  const reg = randomToken('AREG');
  ctx.auth.registrationTokens.set(reg, scopeOf(scopePath));
  send(ctx.res, 'github', 201, { token: reg, expires_at: inAnHour() });
}

/** `orgs/o` → `o`, `repos/o/r` → `o/r`, `enterprises/e` stays: what the config URL's path says (§1.1). */
function scopeOf(scopePath: string): string {
  return scopePath.replace(/^(orgs|repos)\//, '').toLowerCase();
}

/** F3: `RemoteAuth <registration token>` + {url, runner_event} → Actions service URL and admin JWT. */
export function runnerRegistration(ctx: RouteContext): void {
  const h = ctx.req.headers.authorization ?? '';
  const reg = h.startsWith('RemoteAuth ') ? h.slice(11) : undefined;
  const scope = reg === undefined ? undefined : ctx.auth.registrationTokens.get(reg);
  if (scope === undefined) {
    send(ctx.res, 'github', 401, { message: 'Bad registration token' });
    return;
  }
  const body = jsonObject(ctx.body, ctx.res, 'github');
  if (!body) return;
  if (typeof body.url !== 'string' || body.runner_event !== 'register') {
    send(ctx.res, 'github', 400, { message: 'expected {"url":…,"runner_event":"register"}' });
    return;
  }
  let path: string;
  try {
    path = new URL(body.url).pathname.replace(/^\/+|\/+$/g, '').toLowerCase();
  } catch {
    send(ctx.res, 'github', 400, { message: `url is not a URL: ${body.url}` });
    return;
  }
  if (path !== scope) {
    send(ctx.res, 'github', 404, { message: `registration token was issued for ${scope}, not ${path}` });
    return;
  }
  send(ctx.res, 'github', 201, { url: `${ctx.baseUrl}/tenant/123/`, token: issueAdminToken(ctx) });
}

export function issueAdminToken(ctx: Pick<RouteContext, 'auth'>): string {
  const now = Math.floor(Date.now() / 1000);
  const jti = randomToken('j');
  ctx.auth.issuedAdmin.add(jti);
  return ctx.auth.signer.sign({ iss: 'fake-actions', iat: now - 10, exp: now + ctx.auth.adminTtlSec, jti });
}

/** A JWT this fake signed, not revoked by `expireAdminTokens`, and not past its `exp`. */
export function adminTokenValid(ctx: RouteContext): boolean {
  const token = bearer(ctx.req);
  const claims = token ? ctx.auth.signer.verify(token) : undefined;
  if (!claims) return false;
  if (ctx.auth.revokedAdmin.has(String(claims.jti))) return false;
  return Number(claims.exp) > Date.now() / 1000;
}
