import { createSign, createVerify, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** RS256 JWTs for the fake's admin tokens, and verification of GitHub App JWTs. */
export class JwtSigner {
  readonly #privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
  }

  sign(claims: Record<string, unknown>): string {
    const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(this.#privateKey);
    return `${head}.${body}.${b64url(sig)}`;
  }

  /**
   * Every admin call carries one of a few tokens; a signature's verdict never changes, so it is
   * remembered (bounded) instead of paying an RSA verification per request. Expiry is the caller's check.
   */
  verify(token: string): Readonly<Record<string, unknown>> | undefined {
    if (this.#verified.has(token)) return this.#verified.get(token);
    const claims = verifyJwt(token, this.publicKey);
    if (this.#verified.size >= 256) this.#verified.clear();
    this.#verified.set(token, claims);
    return claims;
  }

  readonly #verified = new Map<string, Readonly<Record<string, unknown>> | undefined>();
}

/** Verifies an RS256 JWT; returns its claims, or undefined when the signature or shape is wrong. */
export function verifyJwt(token: string, key: KeyObject | string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [head, body, sig] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
    if (header.alg !== 'RS256') return undefined;
    const ok = createVerify('RSA-SHA256')
      .update(`${head}.${body}`)
      .verify(key, Buffer.from(sig, 'base64url'));
    if (!ok) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function randomToken(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString('base64url')}`;
}
