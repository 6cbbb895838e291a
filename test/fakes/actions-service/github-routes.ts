import { createPublicKey } from 'node:crypto';
import type { RouteContext } from './context.js';
import { bearer, send } from './http-util.js';
import { randomToken, verifyJwt } from './tokens.js';

const expiresAt = () => new Date(Date.now() + 3600_000).toISOString();

/** F1: App JWT → installation token. Only a valid RS256 JWT of the configured App passes. */
export function accessToken(ctx: RouteContext, installationId: number): void {
  const app = ctx.opts.app;
  const jwt = bearer(ctx.req);
  const claims = app && jwt ? verifyJwt(jwt, createPublicKey(app.publicKeyPem)) : undefined;
  const now = Math.floor(Date.now() / 1000);
  if (!app || !claims || String(claims.iss) !== app.clientId || Number(claims.exp) <= now) {
    send(ctx.res, 'github', 401, { message: 'A JSON web token could not be decoded' });
    return;
  }
  if (installationId !== app.installationId) {
    send(ctx.res, 'github', 404, { message: 'Not Found' });
    return;
  }
  const token = randomToken('ghs');
  ctx.auth.installationTokens.add(token);
  send(ctx.res, 'github', 201, { token, expires_at: expiresAt() });
}

/** F2: PAT or installation token → registration token. */
export function registrationToken(ctx: RouteContext): void {
  const token = bearer(ctx.req);
  if (!token || !(ctx.auth.pats.has(token) || ctx.auth.installationTokens.has(token))) {
    send(ctx.res, 'github', 401, { message: 'Bad credentials' });
    return;
  }
  const reg = randomToken('AREG');
  ctx.auth.registrationTokens.add(reg);
  send(ctx.res, 'github', 201, { token: reg, expires_at: expiresAt() });
}

/** F3: RemoteAuth registration token → Actions service URL and admin JWT. */
export function runnerRegistration(ctx: RouteContext): void {
  const h = ctx.req.headers.authorization ?? '';
  const reg = h.startsWith('RemoteAuth ') ? h.slice(11) : undefined;
  if (!reg || !ctx.auth.registrationTokens.has(reg)) {
    send(ctx.res, 'github', 401, { message: 'Bad registration token' });
    return;
  }
  let body: { url?: unknown; runner_event?: unknown };
  try {
    body = JSON.parse(ctx.body) as typeof body;
  } catch {
    send(ctx.res, 'github', 400, { message: 'body is not JSON' });
    return;
  }
  if (typeof body.url !== 'string' || body.runner_event !== 'register') {
    send(ctx.res, 'github', 400, { message: 'expected {url, runner_event:"register"}' });
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

export function adminTokenValid(ctx: RouteContext): boolean {
  const token = bearer(ctx.req);
  const claims = token ? ctx.auth.signer.verify(token) : undefined;
  if (!claims) return false;
  if (ctx.auth.revokedAdmin.has(String(claims.jti))) return false;
  return Number(claims.exp) > Date.now() / 1000;
}
