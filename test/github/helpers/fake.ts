import { generateKeyPairSync } from 'node:crypto';
import { onTestFinished } from 'vitest';
import { ActionsClient, type ActionsClientOptions } from '../../../src/github/index.js';
import { Secret } from '../../../src/secret.js';
import { type FakeActionsService, startFakeActionsService } from '../../fakes/actions-service/index.js';
import { recordingSleep } from './recording-sleep.js';

export type Fake = FakeActionsService;

/** A fake Actions service on port 0 with a short long-poll hold, closed when the test ends. */
export async function startFake(opts: Parameters<typeof startFakeActionsService>[0] = {}): Promise<Fake> {
  const fake = await startFakeActionsService({ holdMs: 300, ...opts });
  onTestFinished(() => fake.close());
  return fake;
}

/** A PAT client for `fake` whose retry waits are recorded, not slept. */
export function clientFor(fake: Fake, opts: Partial<ActionsClientOptions> = {}) {
  const { sleep, waits } = recordingSleep();
  const client = new ActionsClient({
    configUrl: fake.configUrl(),
    auth: { kind: 'pat', token: new Secret(fake.pat) },
    sleep,
    ...opts,
  });
  return { client, waits };
}

export function rsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** One recorded request, normalised so tests do not depend on the fake's storage details. */
export interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string;
}

export function seen(fake: Fake): Seen[] {
  return fake.requests.map((r) => ({
    method: r.method,
    path: r.path,
    query: new URL(r.url, 'http://fake').searchParams,
    headers: Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    ),
    body: r.body,
  }));
}

/** Requests whose path ends with `suffix` (optionally with a method). */
export function hits(fake: Fake, suffix: string | RegExp, method?: string): Seen[] {
  return seen(fake).filter(
    (r) =>
      (method === undefined || r.method === method) &&
      (typeof suffix === 'string' ? r.path.endsWith(suffix) : suffix.test(r.path)),
  );
}
