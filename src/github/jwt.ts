import { createPrivateKey, sign } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { isPlainObject } from './json.js';

/**
 * The GitHub App JWT of §2.2, signed with node:crypto. @octokit/auth-app (via universal-github-app-jwt)
 * was not used: it sets iat = now − 30 and exp = iat + 600 where the spec requires iat = now − 60 and
 * exp = iat + 540, sends a different Accept/Content-Type, caches installation tokens (the spec fetches
 * a fresh one per refresh), and goes through fetch, bypassing our undici retry policy and dispatcher.
 */
export function createAppJwt(clientId: string, privateKeyPem: string, nowMs: number): string {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    // Accepts PKCS#1 ("BEGIN RSA PRIVATE KEY") and PKCS#8 ("BEGIN PRIVATE KEY") PEM.
    key = createPrivateKey(privateKeyPem.replace(/\\n/g, '\n'));
  } catch (err) {
    throw new InvalidArgumentError(
      `GitHub App private key is not a valid PEM key: ${(err as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidArgumentError(`GitHub App private key must be RSA, got ${key.asymmetricKeyType}`);
  }
  // Backdated a minute against clock skew between us and GitHub.
  const iat = Math.floor(nowMs / 1000) - 60;
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(JSON.stringify({ iss: clientId, exp: iat + 540, iat }));
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), key).toString('base64url');
  return `${header}.${claims}.${signature}`;
}

/** The `exp` claim (epoch ms) of a JWT, read without verifying it: only the expiry matters to us (§2.5). */
export function jwtExpiresAt(token: string): number {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) throw new Error('admin token is not a JWT');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new Error('admin token payload is not JSON');
  }
  const exp = isPlainObject(claims) ? claims.exp : undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0)
    throw new Error('admin token has no exp claim');
  return exp * 1000;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
