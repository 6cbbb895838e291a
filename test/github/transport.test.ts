import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HttpTransport } from '../../src/github/transport.js';
import { reply, startServer } from './helpers/http-server.js';
import { recordingSleep } from './helpers/recording-sleep.js';

function transport(opts: ConstructorParameters<typeof HttpTransport>[0] = {}) {
  const rec = recordingSleep();
  return { t: new HttpTransport({ sleep: rec.sleep, ...opts }), waits: rec.waits };
}

describe('HttpTransport retries (§3.5)', () => {
  it('§13.15 retries 503 retryMax+1 times with 1, 2, 4, 8 s waits, then gives up with the last status', async () => {
    const server = await startServer((_req, res) => reply(res, 503, '{"message":"busy"}'));
    const { t, waits } = transport();
    const err = await t.send({ method: 'GET', url: `${server.url}/x`, headers: {} }).catch((e: unknown) => e);
    expect(server.requests).toHaveLength(5);
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    expect(err).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 5, status: 503 });
    expect((err as Error).message).toContain('giving up after 5 attempt(s)');
    expect((err as Error).cause).toMatchObject({ code: 'ACTIONS_HTTP', status: 503, detail: 'busy' });
  });

  it.each([500, 502, 504, 429])('§13.15 retries %i: retryMax = 2 gives 3 attempts', async (status) => {
    const server = await startServer((_req, res) => reply(res, status));
    const { t } = transport({ retryMax: 2 });
    await expect(t.send({ method: 'GET', url: server.url, headers: {} })).rejects.toMatchObject({
      code: 'RETRIES_EXHAUSTED',
      status,
    });
    expect(server.requests).toHaveLength(3);
  });

  it.each([501, 400, 401, 403, 404, 409])('§13.16 does not retry %i', async (status) => {
    const server = await startServer((_req, res) => reply(res, status));
    const { t, waits } = transport();
    const res = await t.send({ method: 'GET', url: server.url, headers: {} });
    expect(res.status).toBe(status);
    expect(server.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('retries extra statuses given per request (runner-registration 401/403)', async () => {
    const server = await startServer((_req, res, i) => reply(res, i < 2 ? 401 : i < 4 ? 403 : 201, '{}'));
    const { t, waits } = transport();
    const res = await t.send({
      method: 'POST',
      url: server.url,
      headers: {},
      body: '',
      retryStatuses: [401, 403],
    });
    expect(res.status).toBe(201);
    expect(server.requests).toHaveLength(5);
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
  });

  it('returns the first non-retryable response after failures, body replayed on every attempt', async () => {
    const server = await startServer((_req, res, i) => reply(res, i < 2 ? 502 : 200, '{"ok":true}'));
    const { t } = transport();
    const res = await t.send({
      method: 'POST',
      url: server.url,
      headers: { 'Content-Type': 'application/json' },
      body: '[1,2]',
    });
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body).toString()).toBe('{"ok":true}');
    expect(server.requests.map((r) => r.body)).toEqual(['[1,2]', '[1,2]', '[1,2]']);
  });

  it('caps backoff at retryWaitMax', async () => {
    const server = await startServer((_req, res) => reply(res, 500));
    const { t, waits } = transport({ retryMax: 6, retryWaitMin: 1000, retryWaitMax: 5000 });
    await expect(t.send({ method: 'GET', url: server.url, headers: {} })).rejects.toThrow();
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('§13.17 honours Retry-After seconds on 503 and an HTTP-date on 429 exactly, uncapped', async () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const answers: [number, Record<string, string>][] = [
      [503, { 'retry-after': '45' }],
      [429, { 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }],
      [500, { 'retry-after': '99' }],
      [200, {}],
    ];
    const server = await startServer((_req, res, i) => {
      const [status, headers] = answers[i]!;
      reply(res, status, '{}', headers);
    });
    const { t, waits } = transport({ now: () => now });
    await t.send({ method: 'GET', url: server.url, headers: {} });
    // 500 ignores Retry-After: backoff for retry #2 is 4 s.
    expect(waits).toEqual([45_000, 7000, 4000]);
  });

  it('§13.15 retries a dropped connection', async () => {
    const server = await startServer((_req, res, i) => {
      if (i < 2) res.socket?.destroy();
      else reply(res, 200, '{}');
    });
    const { t, waits } = transport();
    const res = await t.send({ method: 'GET', url: server.url, headers: {} });
    expect(res.status).toBe(200);
    expect(server.requests).toHaveLength(3);
    expect(waits).toEqual([1000, 2000]);
  });

  it('retries connection refused and reports the network error when giving up', async () => {
    // A port that was just free: nothing listens there any more.
    const probe = createHttpsServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { t, waits } = transport({ retryMax: 2 });
    const err = await t
      .send({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {} })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 3, status: undefined });
    expect(JSON.stringify((err as Error).cause, ['code'])).toContain('ECONNREFUSED');
    expect(waits).toEqual([1000, 2000]);
  });

  it('times an attempt out after timeoutMs and retries it', async () => {
    const server = await startServer(() => {
      // never answers
    });
    const { t } = transport({ retryMax: 1, timeoutMs: 150 });
    const err = await t.send({ method: 'GET', url: server.url, headers: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 2 });
    expect(((err as Error).cause as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry an unsupported scheme', async () => {
    const { t, waits } = transport();
    await expect(t.send({ method: 'GET', url: 'ftp://127.0.0.1/x', headers: {} })).rejects.toMatchObject({
      code: 'TRANSPORT',
    });
    expect(waits).toEqual([]);
  });

  it.skipIf(!hasOpenssl())('does not retry a TLS certificate error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    let hits = 0;
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_req, res) => {
        hits++;
        res.end('{}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const { t, waits } = transport();
    const err = await t
      .send({
        method: 'GET',
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        headers: {},
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TRANSPORT' });
    expect(waits).toEqual([]);
    expect(hits).toBe(0);
  });
});

describe('HttpTransport abort', () => {
  it('never retries after the caller aborts during a backoff wait', async () => {
    const server = await startServer((_req, res) => reply(res, 503));
    const controller = new AbortController();
    const t = new HttpTransport({
      sleep: async () => {
        controller.abort(new Error('shutting down'));
        controller.signal.throwIfAborted();
      },
    });
    await expect(
      t.send({ method: 'GET', url: server.url, headers: {}, signal: controller.signal }),
    ).rejects.toThrow('shutting down');
    expect(server.requests).toHaveLength(1);
  });

  it('aborts an in-flight request promptly with the caller reason, without retrying', async () => {
    let arrived!: () => void;
    const seen = new Promise<void>((r) => {
      arrived = r;
    });
    const server = await startServer(() => arrived());
    const controller = new AbortController();
    const { t, waits } = transport();
    const pending = t.send({ method: 'GET', url: server.url, headers: {}, signal: controller.signal });
    await seen;
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(server.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const server = await startServer((_req, res) => reply(res, 200));
    const { t } = transport();
    await expect(
      t.send({ method: 'GET', url: server.url, headers: {}, signal: AbortSignal.abort(new Error('early')) }),
    ).rejects.toThrow('early');
    expect(server.requests).toHaveLength(0);
  });
});

describe('HttpTransport options', () => {
  it('names an invalid option', () => {
    expect(() => new HttpTransport({ retryMax: -1 })).toThrow('invalid retryMax');
    expect(() => new HttpTransport({ timeoutMs: Number.NaN })).toThrow('invalid timeoutMs');
  });

  it('§13.35 defaults to a 5 minute per-attempt timeout', () => {
    expect(new HttpTransport().timeoutMs).toBe(300_000);
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
