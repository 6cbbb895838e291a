import { describe, expect, it, onTestFinished } from 'vitest';
import { delay } from '../../src/kernel/abort.js';
import type { FakeActionsService, FakeOptions, MalformedKind } from './actions-service/index.js';
import {
  ack,
  acquireJobs,
  actions,
  admin,
  http,
  jitConfig,
  openSession,
  poll,
  scaleSetWithSession,
  startTestFake,
} from './actions-service/testing.js';

async function start(opts: FakeOptions = {}): Promise<FakeActionsService> {
  const fake = await startTestFake(opts);
  onTestFinished(() => fake.close());
  return fake;
}

const regToken = (fake: FakeActionsService) =>
  http(`${fake.url}/orgs/my-org/actions/runners/registration-token`, { method: 'POST', token: fake.pat });

describe('fake Actions service: fault switches', () => {
  it('inject: answers the given status N times, with Retry-After and correlation headers', async () => {
    const fake = await start();
    fake.faults.inject({ route: 'registration-token', status: 503, times: 2, retryAfter: '3' });
    const first = await regToken(fake);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(first.headers.get('x-github-request-id')).toMatch(/^FAKE:/);
    expect(String(first.json?.typeName)).toContain('InjectedFaultException');
    expect((await regToken(fake)).status).toBe(503);
    expect((await regToken(fake)).status).toBe(201);
  });

  it('inject: raw text/plain and BOM-prefixed bodies, on any route with "*"', async () => {
    const fake = await start();
    const a = await admin(fake);
    fake.faults.inject({ route: '*', status: 400, body: 'plain failure', contentType: 'text/plain' });
    const plain = await actions(a, 'GET', '_apis/runtime/runnerscalesets');
    expect(plain.status).toBe(400);
    expect(plain.text).toBe('plain failure');
    expect(plain.headers.get('content-type')).toBe('text/plain');
    expect(plain.headers.get('activityid')).toBeTruthy();

    fake.faults.inject({ route: 'scale-sets', status: 404, bom: true, body: '{"message":"gone"}' });
    const bom = await fetch(`${a.url}_apis/runtime/runnerscalesets?api-version=6.0-preview`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    const bytes = new Uint8Array(await bom.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect((await actions(a, 'GET', '_apis/runtime/runnerscalesets')).status).toBe(200);
  });

  it('expireQueueTokens: queue and acquire answer 401 until the session is refreshed', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    fake.faults.expireQueueTokens();
    expect((await poll(s)).status).toBe(401);
    expect((await acquireJobs(a, s, [1])).status).toBe(401);
    const refreshed = await actions(
      a,
      'PATCH',
      `_apis/runtime/runnerscalesets/${s.scaleSetId}/sessions/${s.sessionId}`,
    );
    expect((await poll({ ...s, queueToken: String(refreshed.json?.messageQueueAccessToken) })).status).toBe(
      202,
    );
  });

  it('expireAdminTokens: current tokens 401, new ones live 30 s until clear()', async () => {
    const fake = await start();
    const a = await admin(fake);
    fake.faults.expireAdminTokens();
    expect((await actions(a, 'GET', '_apis/runtime/runnerscalesets')).status).toBe(401);
    const exp = (t: string) =>
      (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    const short = await admin(fake);
    expect(exp(short.token) - Date.now() / 1000).toBeLessThanOrEqual(30);
    expect((await actions(short, 'GET', '_apis/runtime/runnerscalesets')).status).toBe(200);
    fake.faults.clear();
    expect(exp((await admin(fake)).token) - Date.now() / 1000).toBeGreaterThan(3000);
  });

  it('sessionConflict: the next N session creates answer 409', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    await actions(a, 'DELETE', `_apis/runtime/runnerscalesets/${s.scaleSetId}/sessions/${s.sessionId}`);
    fake.faults.sessionConflict(1);
    const r = await actions(a, 'POST', `_apis/runtime/runnerscalesets/${s.scaleSetId}/sessions`, {
      ownerName: 'x',
    });
    expect(r.status).toBe(409);
    expect(String(r.json?.typeName)).toContain('RunnerScaleSetSessionConflictException');
    await openSession(a, s.scaleSetId);
  });

  it('holdPolls: polls answer nothing, not even 202, until releasePolls', async () => {
    const fake = await start({ holdMs: 100 });
    const s = await scaleSetWithSession(await admin(fake));
    fake.faults.holdPolls();
    const held = poll(s);
    fake.queueJob({ scaleSet: 'linux' });
    // A negative check needs a bound: three hold windows pass with neither 202 nor the message.
    const outcome = await Promise.race([held.then(() => 'answered'), delay(300).then(() => 'still held')]);
    expect(outcome).toBe('still held');
    fake.faults.releasePolls();
    const m = await held;
    expect(m.status).toBe(200);
    expect(m.jobs.map((j) => j.messageType)).toEqual(['JobAvailable']);
  });

  it('stall/unstall: requests on the route are read and never answered; others and later ones are', async () => {
    const fake = await start();
    const a = await admin(fake);
    fake.faults.stall('scale-sets');
    const held = actions(a, 'GET', '_apis/runtime/runnerscalesets?name=linux');
    await fake.waitFor(() => fake.requests.some((r) => r.route === 'scale-sets'), {
      what: 'the stalled request read',
    });
    // Another route answers meanwhile; the stalled request is still waiting after that round trip.
    expect((await regToken(fake)).status).toBe(201);
    const outcome = await Promise.race([held.then(() => 'answered'), delay(300).then(() => 'still held')]);
    expect(outcome).toBe('still held');
    fake.faults.unstall();
    expect((await actions(a, 'GET', '_apis/runtime/runnerscalesets?name=linux')).status).toBe(200);
    // Closing the fake ends the one left hanging.
    await fake.close();
    await expect(held).rejects.toThrow();
  });

  it('dropPolls: the next N polls lose their connection', async () => {
    const fake = await start();
    const s = await scaleSetWithSession(await admin(fake));
    fake.faults.dropPolls(1);
    await expect(poll(s)).rejects.toThrow();
    expect((await poll(s)).status).toBe(202);
  });

  it('down/up: service requests and held polls lose their connection; fake runners do not', async () => {
    const fake = await start({ holdMs: 5_000, runnerClaimHoldMs: 100 });
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    const { jit } = await jitConfig(a, s.scaleSetId, 'r1');
    const runnerUrl = (JSON.parse(Buffer.from(jit, 'base64').toString()) as { runnerUrl: string }).runnerUrl;
    const held = poll(s);
    await fake.waitFor(() => fake.sessions()[0]?.activePolls === 1, { what: 'poll held' });
    fake.faults.down();
    await expect(held).rejects.toThrow();
    await expect(regToken(fake)).rejects.toThrow();
    expect((await http(`${runnerUrl}/claim`, { method: 'POST' })).status).toBe(204);
    fake.faults.up();
    expect((await regToken(fake)).status).toBe(201);
  });

  it.each([
    ['empty-body', (text: string) => expect(text).toBe('')],
    ['bad-json', (text: string) => expect(() => JSON.parse(text)).toThrow()],
    [
      'wrong-type',
      (text: string) => expect(JSON.parse(text).messageType).toBe('RunnerScaleSetSomethingElse'),
    ],
    ['null-statistics', (text: string) => expect(JSON.parse(text).statistics).toBeNull()],
    [
      'unknown-inner',
      (text: string) =>
        expect(JSON.parse(JSON.parse(text).body).map((j: { messageType: string }) => j.messageType)).toEqual([
          'JobFrobnicated',
          'JobAvailable',
        ]),
    ],
    [
      'bom',
      (text: string) => {
        expect(text.charCodeAt(0)).toBe(0xfeff);
        expect(JSON.parse(text.slice(1)).messageType).toBe('RunnerScaleSetJobMessages');
      },
    ],
    [
      'unsafe-unknown-field',
      (text: string) => {
        expect(text).toMatch(/^\{"traceSequence":18446744073709551615,"messageId":/);
        expect(JSON.parse(JSON.parse(text).body)[0]).toMatchObject({ messageType: 'JobAvailable' });
        expect(JSON.parse(text).body).toMatch(
          /^\[\{"planId":18446744073709551615,"messageType":"JobAvailable"/,
        );
      },
    ],
    [
      'unsafe-used-field',
      (text: string) =>
        expect(JSON.parse(text).body).toMatch(
          /^\[\{"messageType":"JobAvailable","runnerRequestId":9007199254740993,/,
        ),
    ],
    [
      'undecodable-body',
      (text: string) =>
        expect(JSON.parse(text)).toMatchObject({ messageId: 1, body: '{"jobs":"not an array"}' }),
    ],
  ] as const)(
    'malformedMessage %s: the next 200 is broken, the message itself stays queued',
    async (kind, check) => {
      const fake = await start();
      const s = await scaleSetWithSession(await admin(fake));
      fake.queueJob({ scaleSet: 'linux' });
      fake.faults.malformedMessage(kind as MalformedKind);
      const broken = await fetch(s.queueUrl, { headers: { authorization: `Bearer ${s.queueToken}` } });
      expect(broken.status).toBe(200);
      // text() would drop a BOM; decode by hand to see it.
      check(new TextDecoder('utf-8', { ignoreBOM: true }).decode(await broken.arrayBuffer()));
      const next = await poll(s);
      expect(next.json).toMatchObject({
        messageType: 'RunnerScaleSetJobMessages',
        statistics: { totalAvailableJobs: 1 },
      });
      expect(next.jobs.map((j) => j.messageType)).toEqual(['JobAvailable']);
    },
  );

  it('poisonMessage: the next message is broken on every delivery until acked; the ones after are intact', async () => {
    const fake = await start();
    const s = await scaleSetWithSession(await admin(fake));
    const first = fake.queueJob({ scaleSet: 'linux' });
    fake.faults.poisonMessage('undecodable-body');
    for (let i = 0; i < 3; i++) {
      const copy = await poll(s);
      expect(copy.json, `delivery ${i + 1}`).toMatchObject({ messageId: 1, body: '{"jobs":"not an array"}' });
    }
    expect((await ack(s, 1)).status).toBe(204);
    const second = fake.queueJob({ scaleSet: 'linux' });
    const next = await poll(s, 1);
    expect(next.messageId).toBeGreaterThan(1);
    expect(next.jobs.map((j) => j.runnerRequestId)).toEqual([second.requestId]);
    expect(first.state).toBe('available'); // its announcement went with the acked message
  });

  it('clear: every switch back to normal', async () => {
    const fake = await start();
    // Switched on before the first connection: down() also cuts pooled keep-alive sockets, which a
    // request right after clear() could otherwise pick up.
    fake.faults.inject({ route: '*', status: 500, times: 10 });
    fake.faults.dropPolls(3);
    fake.faults.sessionConflict(2);
    fake.faults.malformedMessage('bad-json');
    fake.faults.poisonMessage('wrong-type');
    fake.faults.holdPolls();
    fake.faults.down();
    fake.faults.clear();
    const s = await scaleSetWithSession(await admin(fake));
    fake.queueJob({ scaleSet: 'linux' });
    const m = await poll(s);
    expect(m.json?.messageType).toBe('RunnerScaleSetJobMessages');
  });
});
