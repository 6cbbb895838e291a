import { request as httpRequest } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMetrics } from '../../src/health/metrics.js';
import { isLoopback } from '../../src/health/routes.js';
import { type HealthServerOptions, startHealthServer } from '../../src/health/server.js';
import type { DaemonStatus } from '../../src/health/status-types.js';
import { HostsError } from '../../src/hosts/errors.js';
import { Secret } from '../../src/secret.js';
import { threeHosts } from '../hosts/fixtures.js';
import { at, captureLogger, daemonStatus, event, manualClock, scaleSet, T0 } from './fixtures.js';
import { parseExposition, value } from './prom-text.js';

async function serve(status: () => DaemonStatus, extra: Partial<HealthServerOptions> = {}) {
  const server = await startHealthServer({ port: 0, status, metrics: createMetrics(), ...extra });
  onTestFinished(() => server.close());
  return server;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return {
    code: res.status,
    text,
    headers: res.headers,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

describe('health server', () => {
  it('/healthz follows the age of the last successful poll: 200, 503 when stale, 200 again', async () => {
    const clock = manualClock(T0);
    let lastPoll = at(0);
    // The daemon keeps claiming healthy/listening: only lastPollAt tells the truth.
    const status = () =>
      daemonStatus([
        scaleSet({ name: 'linux', lastPollAt: lastPoll }),
        scaleSet({ name: 'mac', lastPollAt: lastPoll }),
      ]);
    const srv = await serve(status, { now: clock.now, staleAfterMs: 95_000 });

    clock.set(T0 + 95_000);
    let r = await get(`${srv.url}/healthz`);
    expect(r.code).toBe(200);
    expect(r.json()).toMatchObject({
      status: 'ok',
      scaleSets: [{ name: 'linux', healthy: true, lastPollAt: at(0) }, {}],
    });

    clock.set(T0 + 95_001);
    r = await get(`${srv.url}/healthz`);
    expect(r.code).toBe(503);
    expect(r.json()).toMatchObject({
      status: 'unhealthy',
      scaleSets: [
        {
          name: 'linux',
          healthy: false,
          lastPollAt: at(0),
          reason: 'no successful poll for 95 s (limit 95 s)',
        },
        { name: 'mac', healthy: false },
      ],
    });
    // The same judgement reaches `runner status` and the dashboard, whatever the daemon claimed.
    const api = (await get(`${srv.url}/api/status`)).json() as unknown as DaemonStatus;
    expect(api.healthy).toBe(false);
    expect(api.scaleSets[0]).toMatchObject({
      healthy: false,
      reason: 'no successful poll for 95 s (limit 95 s)',
    });

    lastPoll = at(100_000);
    clock.set(T0 + 100_500);
    r = await get(`${srv.url}/healthz`);
    expect(r.code).toBe(200);
    expect((await get(`${srv.url}/api/status`)).json()).toMatchObject({ healthy: true });
  });

  it('/healthz names each unhealthy scale set with its reason', async () => {
    const clock = manualClock(T0);
    const srv = await serve(
      () =>
        daemonStatus([
          scaleSet({ name: 'fresh', lastPollAt: at(-1_000) }),
          scaleSet({
            name: 'booting',
            phase: 'starting',
            healthy: false,
            reason: 'registering the scale set failed: 401',
          }),
          scaleSet({ name: 'gone', phase: 'stopped', lastPollAt: at(-500) }),
        ]),
      { now: clock.now },
    );
    const r = await get(`${srv.url}/healthz`);
    expect(r.code).toBe(503);
    expect(r.json().scaleSets).toEqual([
      { name: 'fresh', phase: 'listening', healthy: true, lastPollAt: at(-1_000) },
      {
        name: 'booting',
        phase: 'starting',
        healthy: false,
        reason: 'no successful poll yet (starting); last error: registering the scale set failed: 401',
      },
      { name: 'gone', phase: 'stopped', healthy: false, reason: 'listener stopped', lastPollAt: at(-500) },
    ]);
  });

  it('/healthz is 503 when the snapshot fails or there is no scale set', async () => {
    const { logger, lines } = captureLogger();
    const broken = await serve(
      () => {
        throw new Error('boom');
      },
      { logger },
    );
    const r = await get(`${broken.url}/healthz`);
    expect(r.code).toBe(503);
    expect(r.json().error).toBe('status snapshot failed: boom');
    expect(lines().some((l) => l.msg === 'status snapshot failed')).toBe(true);
    expect((await get(`${broken.url}/api/status`)).code).toBe(500);

    const empty = await serve(() => daemonStatus([]));
    expect((await get(`${empty.url}/healthz`)).code).toBe(503);
  });

  it('/readyz is 503 until every scale set has listened once, then stays 200 through reconnects', async () => {
    const sets = [
      scaleSet({ name: 'a', phase: 'starting', healthy: false }),
      scaleSet({ name: 'b', phase: 'starting', healthy: false }),
    ];
    const srv = await serve(() => daemonStatus(sets, { ready: false }));
    let r = await get(`${srv.url}/readyz`);
    expect(r.code).toBe(503);
    expect(r.json()).toMatchObject({
      status: 'not ready',
      scaleSets: [{ name: 'a', ready: false }, { ready: false }],
    });

    sets[0]!.phase = 'listening';
    r = await get(`${srv.url}/readyz`);
    expect(r.code).toBe(503);
    expect(r.json()).toMatchObject({
      scaleSets: [
        { name: 'a', ready: true },
        { name: 'b', ready: false },
      ],
    });

    sets[1]!.phase = 'listening';
    expect((await get(`${srv.url}/readyz`)).code).toBe(200);
    sets[0]!.phase = 'reconnecting';
    r = await get(`${srv.url}/readyz`);
    expect(r.code).toBe(200);
    expect(r.json().status).toBe('ready');
  });

  it('requires the bearer token for every data route, and compares it exactly', async () => {
    const token = new Secret('s3cret-health-token');
    const srv = await serve(
      () => daemonStatus([scaleSet({ name: 'linux', lastPollAt: new Date().toISOString() })]),
      {
        token,
      },
    );
    const good = { authorization: 'Bearer s3cret-health-token' };
    for (const path of ['/metrics', '/api/status', '/nope']) {
      const r = await get(`${srv.url}${path}`);
      expect(r.code, path).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="runner"');
      expect(r.text).not.toContain('linux');
      for (const bad of [
        'Bearer s3cret-health-toke',
        'Bearer s3cret-health-token2',
        'Basic s3cret-health-token',
      ]) {
        expect((await get(`${srv.url}${path}`, { authorization: bad })).code, `${path} ${bad}`).toBe(401);
      }
    }
    expect((await get(`${srv.url}/metrics`, good)).code).toBe(200);
    expect((await get(`${srv.url}/api/status`, good)).json()).toMatchObject({
      scaleSets: [{ name: 'linux' }],
    });
    expect((await get(`${srv.url}/nope`, good)).code).toBe(404);
    // The token is a header only: a query parameter would end up in logs and browser history.
    expect((await get(`${srv.url}/api/status?token=s3cret-health-token`)).code).toBe(401);
    // The dashboard shell carries no data and must load without a header (a browser opening a URL
    // cannot send one); it then calls /api/status with the token.
    const shell = await get(`${srv.url}/`);
    expect(shell.code).toBe(200);
    expect(shell.text).not.toContain('linux');
    expect((await get(`${srv.url}/healthz`)).code).toBe(200);
    expect((await get(`${srv.url}/readyz`)).code).toBe(200);
  });

  it('cordons through POST /api/hosts/NAME/cordon|uncordon behind the token; lists the hosts at /api/hosts', async () => {
    const token = new Secret('s3cret-health-token');
    const good = { authorization: 'Bearer s3cret-health-token' };
    const asked: [string, boolean][] = [];
    const hosts = threeHosts();
    const srv = await serve(() => daemonStatus([scaleSet({ name: 'linux' })], { hosts }), {
      token,
      cordon: async (name, on) => {
        asked.push([name, on]);
        const host = hosts.find((h) => h.name === name);
        if (!host)
          throw new HostsError('HOST_UNKNOWN', `no host "${name}"; the hosts are: build-1, build-2, build-3`);
        host.cordoned = on;
        return host;
      },
    });
    const post = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers });
      return { code: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect((await post('/api/hosts/build-1/cordon')).code).toBe(401);
    expect((await post('/api/hosts/build-1/cordon', { authorization: 'Bearer nope' })).code).toBe(401);
    expect(asked).toEqual([]);
    const done = await post('/api/hosts/build-1/cordon', good);
    expect(done).toMatchObject({ code: 200, body: { host: { name: 'build-1', cordoned: true } } });
    expect((await post('/api/hosts/build-1/uncordon', good)).body).toMatchObject({
      host: { cordoned: false },
    });
    expect(await post('/api/hosts/build-9/cordon', good)).toEqual({
      code: 404,
      body: { error: 'no host "build-9"; the hosts are: build-1, build-2, build-3', code: 'HOST_UNKNOWN' },
    });
    expect(asked).toEqual([
      ['build-1', true],
      ['build-1', false],
      ['build-9', true],
    ]);
    // Only POST changes anything; other verbs and paths do not reach the cordon.
    const viaGet = await get(`${srv.url}/api/hosts/build-1/cordon`, good);
    expect([viaGet.code, viaGet.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await post('/api/status', good)).code).toBe(405);
    expect(asked).toHaveLength(3);

    expect((await get(`${srv.url}/api/hosts`)).code).toBe(401);
    const listed = await get(`${srv.url}/api/hosts`, good);
    expect((listed.json().hosts as { name: string }[]).map((h) => h.name)).toEqual([
      'build-1',
      'build-2',
      'build-3',
    ]);
  });

  it('tells a loopback peer, the only one that may cordon without a token, from any other', () => {
    expect(['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['10.0.0.5', '::ffff:10.0.0.5', 'fe80::1', '::', '1127.0.0.1', undefined].map(isLoopback)).toEqual(
      [false, false, false, false, false, false],
    );
  });

  it('without a token, cordons from loopback; without hosts, the cordon route is 404', async () => {
    const srv = await serve(() => daemonStatus([scaleSet({ name: 'linux' })]));
    const res = await fetch(`${srv.url}/api/hosts/a/cordon`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'this daemon has no hosts to cordon' });
    expect((await get(`${srv.url}/api/hosts`)).json()).toEqual({ hosts: [] });
  });

  it('serves metrics, status JSON and the dashboard with the right headers', async () => {
    const metrics = createMetrics();
    metrics.onEvent(event('runners-adopted', 'linux', { count: 4 }));
    const srv = await serve(() => daemonStatus([scaleSet({ name: 'linux', desiredRunners: 2 })]), {
      metrics,
    });
    const m = await get(`${srv.url}/metrics`);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parseExposition(m.text);
    expect(value(e, 'runner_adopted_total', { scale_set: 'linux' })).toBe(4);
    expect(value(e, 'gha_desired_runners', { name: 'linux' })).toBe(2);

    const page = await get(`${srv.url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-/);
    expect(page.text).not.toMatch(/<(script|link)[^>]+(src|href)=/);

    const head = await fetch(`${srv.url}/api/status`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${srv.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('binds to loopback by default, rejects bad options, and closes with a keep-alive client attached', async () => {
    await expect(serve(() => daemonStatus([]), { token: new Secret('') })).rejects.toThrow(
      /health token is empty/,
    );
    await expect(serve(() => daemonStatus([]), { port: 70_000 })).rejects.toThrow(/health port/);
    const srv = await serve(() => daemonStatus([]));
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(serve(() => daemonStatus([]), { port: srv.port })).rejects.toMatchObject({
      code: 'HEALTH_PORT_IN_USE',
      message: `127.0.0.1:${srv.port} is in use by another process`,
    });

    // A dashboard tab keeps its connection open; close() must not wait for it to time out.
    const agentRes = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${srv.url}/readyz`, { headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(agentRes).toBe(503);
    await srv.close();
    await expect(fetch(`${srv.url}/healthz`)).rejects.toThrow();
  });
});
