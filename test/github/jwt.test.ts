import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAppJwt, jwtExpiresAt } from '../../src/github/jwt.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

function parts(token: string) {
  const [h, c, s] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()) as unknown,
    claims: JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, number | string>,
    rawClaims: Buffer.from(c, 'base64url').toString(),
    signed: `${h}.${c}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

describe('GitHub App JWT (§2.2)', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const nowSec = now / 1000;

  it.each([
    ['PKCS#1', privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
    ['PKCS#8', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
  ])('is RS256 with iss, iat = now − 60, exp = iat + 540 (%s key)', (_kind, pem) => {
    const token = parts(createAppJwt('Iv1.client', pem, now));
    expect(token.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(token.rawClaims).toBe(`{"iss":"Iv1.client","exp":${nowSec - 60 + 540},"iat":${nowSec - 60}}`);
    expect(verify('sha256', Buffer.from(token.signed), publicKey, token.signature)).toBe(true);
  });

  it('accepts a PEM whose newlines were escaped in an env var', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n');
    expect(parts(createAppJwt('1', pem, now)).claims.iss).toBe('1');
  });

  it('rejects a key that is not PEM, or not RSA', () => {
    expect(() => createAppJwt('1', 'nope', now)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => createAppJwt('1', ec.toString(), now)).toThrow(/must be RSA/);
  });
});

describe('admin token expiry (§2.5)', () => {
  const jwt = (claims: unknown) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('reads exp without verifying the signature', () => {
    expect(jwtExpiresAt(jwt({ exp: 1_700_000_000 }))).toBe(1_700_000_000_000);
  });

  it.each([
    ['not a JWT', 'abc'],
    ['no exp', jwt({ iat: 1 })],
    ['exp not a number', jwt({ exp: 'soon' })],
    ['payload not JSON', 'e30.bm9wZQ.sig'],
  ])('rejects %s', (_what, token) => {
    expect(() => jwtExpiresAt(token)).toThrow();
  });
});
