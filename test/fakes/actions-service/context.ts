import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeFaults } from './faults.js';
import type { FakeState } from './state.js';
import type { JwtSigner } from './tokens.js';
import type { FakeOptions } from './types.js';

export type ResolvedOptions = Required<Omit<FakeOptions, 'app' | 'pats' | 'ghes' | 'tls'>> &
  Pick<FakeOptions, 'app' | 'tls'>;

/** What every route handler gets. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams;
  body: string;
  state: FakeState;
  faults: FakeFaults;
  opts: ResolvedOptions;
  auth: AuthState;
  baseUrl: string;
}

export interface AuthState {
  signer: JwtSigner;
  pats: Set<string>;
  installationTokens: Set<string>;
  /** Registration token → the scope it was issued for (`org`, `org/repo`, `enterprises/e`). */
  registrationTokens: Map<string, string>;
  /** Admin JWT ids revoked by expireAdminTokens. */
  revokedAdmin: Set<string>;
  issuedAdmin: Set<string>;
  /** Lifetime of newly issued admin JWTs: the option, or 30 s after expireAdminTokens (until clear). */
  adminTtlSec: number;
}
