import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../secret.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Constant-time comparison of a presented token with the configured one. Both sides are hashed first
 * so the comparison never leaks the token's length through `timingSafeEqual`'s length check.
 */
export function tokenMatches(presented: string | undefined | null, token: Secret): boolean {
  if (presented == null) return false;
  return timingSafeEqual(digest(presented), digest(token.reveal()));
}

/** The credential of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return m?.[1];
}
