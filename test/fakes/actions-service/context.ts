import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeFaults } from './faults.js';
import type { FakeState } from './state.js';
import type { JwtSigner } from './tokens.js';
import type { FakeOptions } from './types.js';

/** What every route handler gets. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams;
  body: string;
  state: FakeState;
  faults: FakeFaults;
  opts: Required<Omit<FakeOptions, 'app' | 'pats'>> & Pick<FakeOptions, 'app'>;
  auth: AuthState;
  baseUrl: string;
}

export interface AuthState {
  signer: JwtSigner;
  pats: Set<string>;
  installationTokens: Set<string>;
  registrationTokens: Set<string>;
  /** Admin JWT ids revoked by expireAdminTokens. */
  revokedAdmin: Set<string>;
  issuedAdmin: Set<string>;
  adminTtlSec: number;
}
