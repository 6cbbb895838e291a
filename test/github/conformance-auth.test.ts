import { Agent, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { ActionsClient, findActionsServiceError } from '../../src/github/index.js';
import { Secret } from '../../src/secret.js';
import { clientFor, hits, rsaKeyPair, seen, startFake } from './helpers/fake.js';
import { recordingSleep } from './helpers/recording-sleep.js';

/** Decodes a JWT's header and claims without verifying it. */
function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>,
  };
}

const bearer = (value: string | undefined) => value?.replace(/^Bearer /, '') ?? '';

describe('configuration and authentication (§13.1–§13.13)', () => {
  it('§13.1 trims slashes and registers the trimmed URL; repo and enterprise scopes route by path', async () => {
    const fake = await startFake();
    for (const [path, regPath] of [
      ['my-org', '/api/v3/orgs/my-org/actions/runners/registration-token'],
      ['my-org/my-repo', '/api/v3/repos/my-org/my-repo/actions/runners/registration-token'],
      ['enterprises/my-ent', '/api/v3/enterprises/my-ent/actions/runners/registration-token'],
    ] as const) {
      const before = fake.requests.length;
      const { client } = clientFor(fake, { configUrl: `${fake.configUrl(path)}//` });
      await client.getRunnerScaleSet(1, 'absent');
      const mine = seen(fake).slice(before);
      expect(mine[0]?.path).toBe(regPath);
      expect(JSON.parse(mine[1]?.body ?? '{}')).toEqual({
        url: fake.configUrl(path),
        runner_event: 'register',
      });
    }
    expect(() => clientFor(fake, { configUrl: `${fake.url}/a/b/c` })).toThrow(/invalid config URL/);
    expect(() => clientFor(fake, { configUrl: fake.url })).toThrow(/invalid config URL/);
  });

  it('§13.2 hosted URLs call api.<host> without /api/v3; GITHUB_ACTIONS_FORCE_GHES forces /api/v3', async () => {
    const fake = await startFake();
    // Requests for github.com are redirected to the fake at the dispatcher, recording where they were meant to go.
    const origins: string[] = [];
    const redirect: Dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      origins.push(`${String(opts.origin)}${opts.path.split('?')[0]}`);
      return dispatch({ ...opts, origin: fake.url }, handler);
    });
    const hosted = clientFor(fake, {
      configUrl: 'https://github.com/my-org',
      dispatcher: redirect,
      env: {},
    }).client;
    await hosted.getRunnerScaleSet(1, 'absent');
    expect(origins.slice(0, 2)).toEqual([
      'https://api.github.com/orgs/my-org/actions/runners/registration-token',
      'https://api.github.com/actions/runner-registration',
    ]);
    origins.length = 0;
    const forced = clientFor(fake, {
      configUrl: 'https://www.github.com/my-org',
      dispatcher: redirect,
      env: { GITHUB_ACTIONS_FORCE_GHES: '' },
    }).client;
    await forced.getRunnerScaleSet(1, 'absent');
    expect(origins[0]).toBe('https://www.github.com/api/v3/orgs/my-org/actions/runners/registration-token');
  });

  it('§13.3 constructing a client sends nothing; the first Actions call runs the chain', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    client.setSystemInfo({ scaleSetId: 3 });
    expect(fake.requests).toHaveLength(0);
    await client.getRunnerScaleSet(1, 'absent');
    expect(seen(fake).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v3/orgs/my-org/actions/runners/registration-token',
      'POST /api/v3/actions/runner-registration',
      'GET /tenant/123/_apis/runtime/runnerscalesets',
    ]);
  });

  it('§13.4 PAT: registration-token with Bearer PAT and the v3 content type, empty body', async () => {
    const fake = await startFake();
    await clientFor(fake).client.getRunnerScaleSet(1, 'absent');
    const [reg] = hits(fake, '/registration-token', 'POST');
    expect(reg?.headers.authorization).toBe(`Bearer ${fake.pat}`);
    expect(reg?.headers['content-type']).toBe('application/vnd.github.v3+json');
    expect(reg?.body).toBe('');
  });

  it('§13.5 a 200 from registration-token is an error', async () => {
    const fake = await startFake();
    fake.faults.inject({
      route: 'registration-token',
      status: 200,
      body: '{"token":"AABF3JGZDX3P5PMEXLND6TS6FCWO6"}',
    });
    const err = await clientFor(fake)
      .client.getRunnerScaleSet(1, 'absent')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOKEN_REFRESH' });
    expect(findActionsServiceError(err)).toMatchObject({ status: 200 });
    expect((err as Error).message).toContain('failed to get runner registration token');
    expect(hits(fake, '/runner-registration')).toHaveLength(0);
  });

  it('§13.6 GitHub App: access_tokens with an RS256 JWT first, its token then used for registration', async () => {
    const { privateKeyPem, publicKeyPem } = rsaKeyPair();
    const fake = await startFake({ app: { clientId: 'Iv1.abc', installationId: 42, publicKeyPem } });
    const { sleep } = recordingSleep();
    const client = new ActionsClient({
      configUrl: fake.configUrl(),
      auth: { kind: 'app', clientId: 'Iv1.abc', installationId: 42, privateKey: new Secret(privateKeyPem) },
      sleep,
    });
    const before = Math.floor(Date.now() / 1000);
    await client.getRunnerScaleSet(1, 'absent');
    const [access, reg] = seen(fake);
    expect(access?.method).toBe('POST');
    expect(access?.path).toBe('/api/v3/app/installations/42/access_tokens');
    expect(access?.headers['content-type']).toBe('application/vnd.github+json');
    const jwt = bearer(access?.headers.authorization);
    const { header, claims } = decodeJwt(jwt);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(claims.iss).toBe('Iv1.abc');
    expect(claims.iat).toBeGreaterThanOrEqual(before - 61);
    expect(claims.iat).toBeLessThanOrEqual(before - 59 + 2);
    expect(claims.exp).toBe((claims.iat as number) + 540);
    expect(reg?.path).toBe('/api/v3/orgs/my-org/actions/runners/registration-token');
    const installationToken = bearer(reg?.headers.authorization);
    expect(installationToken).not.toBe(jwt);
    expect(installationToken).not.toBe('');
  });

  it('§13.6 only 201 from access_tokens is success', async () => {
    const { privateKeyPem, publicKeyPem } = rsaKeyPair();
    const fake = await startFake({ app: { clientId: '7', installationId: 1, publicKeyPem } });
    fake.faults.inject({ route: 'access-token', status: 200, body: '{"token":"ghs_x"}' });
    const client = new ActionsClient({
      configUrl: fake.configUrl(),
      auth: { kind: 'app', clientId: '7', installationId: 1, privateKey: new Secret(privateKeyPem) },
      sleep: recordingSleep().sleep,
    });
    const err = await client.getRunnerScaleSet(1, 'absent').catch((e: unknown) => e);
    expect((err as Error).message).toContain('failed to get access token for GitHub App auth');
    expect(findActionsServiceError(err)?.status).toBe(200);
    expect(hits(fake, '/registration-token')).toHaveLength(0);
  });

  it('§13.7 runner-registration: RemoteAuth registration token, JSON body with trailing newline', async () => {
    const fake = await startFake();
    await clientFor(fake, { configUrl: `${fake.configUrl('my-org/my-repo')}/` }).client.getRunnerScaleSet(
      1,
      'x',
    );
    const [reg] = hits(fake, '/runner-registration', 'POST');
    expect(reg?.headers.authorization).toMatch(/^RemoteAuth \S+$/);
    expect(reg?.headers['content-type']).toBe('application/json');
    expect(reg?.body).toBe(`{"url":"${fake.configUrl('my-org/my-repo')}","runner_event":"register"}\n`);
  });

  it('§13.8 runner-registration is accepted on any 2xx', async () => {
    const fake = await startFake();
    const token = `e30.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url')}.x`;
    fake.faults.inject({
      route: 'runner-registration',
      status: 202,
      body: JSON.stringify({ url: `${fake.url}/tenant/123/`, token, extra: 'ignored' }),
    });
    const err = await clientFor(fake)
      .client.getRunnerScaleSet(1, 'x')
      .catch((e: unknown) => e);
    // Registration succeeded: the Actions call went out with the injected token (which the fake rejects).
    expect(err).toMatchObject({ code: 'ACTIONS_HTTP', status: 401 });
    expect(bearer(hits(fake, '/_apis/runtime/runnerscalesets')[0]?.headers.authorization)).toBe(token);
  });

  it.each([
    ['url', { token: 'e30.e30.x' }],
    ['token', { url: 'http://127.0.0.1/tenant/123/' }],
  ])('§13.8 a runner-registration response missing %s is an error', async (field, body) => {
    const fake = await startFake();
    fake.faults.inject({ route: 'runner-registration', status: 201, body: JSON.stringify(body) });
    const err = await clientFor(fake)
      .client.getRunnerScaleSet(1, 'x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOKEN_REFRESH' });
    expect((err as Error).message).toContain(`actions service admin connection missing ${field}`);
  });

  it('§13.9 runner-registration 401 four times then 2xx succeeds after 5 attempts', async () => {
    const fake = await startFake();
    fake.faults.inject({ route: 'runner-registration', status: 401, times: 2 });
    fake.faults.inject({ route: 'runner-registration', status: 403, times: 2 });
    const { client, waits } = clientFor(fake);
    await expect(client.getRunnerScaleSet(1, 'x')).resolves.toBeNull();
    expect(hits(fake, '/runner-registration')).toHaveLength(5);
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
  });

  it('§13.9 runner-registration 401 five times fails with the 401 status', async () => {
    const fake = await startFake();
    fake.faults.inject({ route: 'runner-registration', status: 401, times: 5 });
    const err = await clientFor(fake)
      .client.getRunnerScaleSet(1, 'x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOKEN_REFRESH' });
    expect((err as Error).cause).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 5, status: 401 });
    expect(findActionsServiceError(err)?.status).toBe(401);
    expect(hits(fake, '/runner-registration')).toHaveLength(5);
  });

  it('§13.10 §13.11 _apis requests keep the service path prefix and carry admin token, JSON type, UA, api-version', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerScaleSet(1, 'x');
    await client.getRunnerByName('nobody');
    const apis = seen(fake).filter((r) => r.path.includes('/_apis/'));
    expect(apis).toHaveLength(2);
    const tokens = new Set<string>();
    for (const r of apis) {
      expect(r.path.startsWith('/tenant/123/_apis/')).toBe(true);
      expect(r.query.get('api-version')).toBe('6.0-preview');
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.headers['user-agent'] ?? '{}')).toMatchObject({ kind: 'scaleset' });
      tokens.add(bearer(r.headers.authorization));
    }
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).not.toBe(fake.pat);
  });

  it('§13.12 the admin token is reused until its exp is within 60 s, then the whole chain runs again', async () => {
    const fake = await startFake({ adminTokenTtlSec: 3600 });
    let now = Date.now();
    const { client } = clientFor(fake, { now: () => now });
    await client.getRunnerScaleSet(1, 'x');
    now += 3600_000 - 61_000;
    await client.getRunnerScaleSet(1, 'x');
    expect(hits(fake, '/runner-registration')).toHaveLength(1);
    now += 2_000;
    await client.getRunnerScaleSet(1, 'x');
    expect(seen(fake).map((r) => r.path.split('/').pop())).toEqual([
      'registration-token',
      'runner-registration',
      'runnerscalesets',
      'runnerscalesets',
      'registration-token',
      'runner-registration',
      'runnerscalesets',
    ]);
    const [first, , third] = hits(fake, '/runnerscalesets');
    expect(bearer(third?.headers.authorization)).not.toBe(bearer(first?.headers.authorization));
  });

  it('§13.12 concurrent calls share one refresh', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await Promise.all([
      client.getRunnerScaleSet(1, 'a'),
      client.getRunnerByName('b'),
      client.getRunnerScaleSet(1, 'c'),
    ]);
    expect(hits(fake, '/registration-token')).toHaveLength(1);
    expect(hits(fake, '/runner-registration')).toHaveLength(1);
  });

  it('§13.13 a failed refresh fails the request and keeps the previous token, URL and expiry', async () => {
    const fake = await startFake({ adminTokenTtlSec: 3600 });
    const start = Date.now();
    let now = start;
    const { client } = clientFor(fake, { now: () => now });
    await client.getRunnerScaleSet(1, 'x');
    const firstToken = bearer(hits(fake, '/runnerscalesets')[0]?.headers.authorization);
    now = start + 3600_000 - 30_000;
    fake.faults.inject({
      route: 'registration-token',
      status: 403,
      body: '{"message":"Resource not accessible"}',
    });
    const err = await client.getRunnerScaleSet(1, 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOKEN_REFRESH' });
    expect((err as Error).message).toMatch(
      /^failed to issue update token if needed: .*Resource not accessible/,
    );
    // Back before the margin: the old token is still there and used without another refresh.
    now = start;
    await client.getRunnerScaleSet(1, 'x');
    expect(hits(fake, '/registration-token')).toHaveLength(2);
    expect(bearer(hits(fake, '/runnerscalesets').at(-1)?.headers.authorization)).toBe(firstToken);
  });

  it('an admin 401 makes the next call fetch a new token (our addition; the spec has no reactive refresh)', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    await client.getRunnerScaleSet(1, 'x');
    fake.faults.expireAdminTokens();
    await expect(client.getRunnerScaleSet(1, 'x')).rejects.toMatchObject({
      code: 'ACTIONS_HTTP',
      status: 401,
    });
    await expect(client.getRunnerScaleSet(1, 'x')).resolves.toBeNull();
    expect(hits(fake, '/runner-registration')).toHaveLength(2);
  });
});
