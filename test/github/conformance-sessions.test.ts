import { describe, expect, it } from 'vitest';
import { isSessionConflict } from '../../src/github/index.js';
import { clientFor, type Fake, hits, seen, startFake } from './helpers/fake.js';

const bearer = (value: string | undefined) => value?.replace(/^Bearer /, '') ?? '';

async function openSession(fakeOpts: Parameters<typeof startFake>[0] = {}) {
  const fake = await startFake(fakeOpts);
  const { client, waits } = clientFor(fake);
  const set = await client.createRunnerScaleSet({ name: 'sess-set' });
  const scaleSetId = set.id ?? 0;
  const session = await client.createMessageSession(scaleSetId, 'my-host');
  return { fake, client, waits, scaleSetId, session };
}

/** The admin token the client used for its most recent `_apis` call. */
function adminToken(fake: Fake): string {
  const apis = seen(fake).filter((r) => r.path.includes('/_apis/') && !r.path.endsWith('/acquirejobs'));
  return bearer(apis.at(-1)?.headers.authorization);
}

function queuePolls(fake: Fake) {
  return hits(fake, /^\/queue\/[^/]+$/, 'GET');
}

describe('sessions (§13.25–§13.28)', () => {
  it('§13.25 POST …/sessions with ownerName; only 200; sessionId, queue URL, token and statistics retained', async () => {
    const { fake, scaleSetId, session } = await openSession();
    const [post] = hits(fake, `/_apis/runtime/runnerscalesets/${scaleSetId}/sessions`, 'POST');
    // Deliberately ARC's body: scaleset v0.4.0 also sends a nil-UUID sessionId, a Go accident (uuid.UUID
    // cannot be omitted) that the service ignores.
    expect(JSON.parse(post?.body ?? '{}')).toEqual({ ownerName: 'my-host' });
    const active = fake.sessions().find((s) => s.scaleSetId === scaleSetId);
    expect(session.session.sessionId).toBe(active?.sessionId);
    expect(session.session.ownerName).toBe('my-host');
    expect(session.session.messageQueueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/queue\//);
    expect(session.session.messageQueueAccessToken).toBeTruthy();
    expect(session.session.statistics).toMatchObject({ totalAssignedJobs: 0 });
  });

  it('§13.25 a 201 on session create is an error; so is a session without a queue URL', async () => {
    const fake = await startFake();
    const { client } = clientFor(fake);
    const set = await client.createRunnerScaleSet({ name: 's' });
    fake.faults.inject({ route: 'sessions', status: 201, body: '{}' });
    await expect(client.createMessageSession(set.id ?? 0, 'h')).rejects.toMatchObject({ status: 201 });
    fake.faults.inject({
      route: 'sessions',
      status: 200,
      body: '{"sessionId":"6b7f5d4e","ownerName":"h","messageQueueUrl":"","messageQueueAccessToken":"tok-123456789"}',
    });
    await expect(client.createMessageSession(set.id ?? 0, 'h')).rejects.toMatchObject({
      code: 'INVALID_RESPONSE',
      message: expect.stringContaining('messageQueueUrl'),
    });
  });

  it('§13.26 a 409 is a SessionConflict and is not retried', async () => {
    const fake = await startFake();
    const { client, waits } = clientFor(fake);
    const set = await client.createRunnerScaleSet({ name: 'conflicted' });
    fake.faults.sessionConflict(1);
    const err = await client.createMessageSession(set.id ?? 0, 'second').catch((e: unknown) => e);
    expect(isSessionConflict(err)).toBe(true);
    expect(err).toMatchObject({
      status: 409,
      typeName: expect.stringContaining('RunnerScaleSetSessionConflictException'),
    });
    expect(hits(fake, '/sessions', 'POST')).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('§13.26 a second live session on the same scale set conflicts', async () => {
    const { client, scaleSetId } = await openSession();
    expect(
      isSessionConflict(await client.createMessageSession(scaleSetId, 'other').catch((e: unknown) => e)),
    ).toBe(true);
  });

  it('§13.27 close() sends DELETE …/sessions/{id} with the admin token; only 204', async () => {
    const { fake, scaleSetId, session } = await openSession();
    const { sessionId } = session.session;
    fake.faults.inject({ route: 'session', status: 200, body: '{}' });
    await expect(session.close()).rejects.toMatchObject({ status: 200 });
    await session.close();
    const deletes = hits(
      fake,
      `/_apis/runtime/runnerscalesets/${scaleSetId}/sessions/${sessionId}`,
      'DELETE',
    );
    expect(deletes).toHaveLength(2);
    expect(bearer(deletes[1]?.headers.authorization)).toBe(adminToken(fake));
    expect(bearer(deletes[1]?.headers.authorization)).not.toBe(session.session.messageQueueAccessToken);
    expect(fake.sessions()).toHaveLength(0);
    await expect(session.getMessage(0, 1)).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
  });

  it('§13.28 refresh() PATCHes …/sessions/{id} without a body and replaces the session', async () => {
    const { fake, scaleSetId, session } = await openSession();
    const before = session.session;
    const after = await session.refresh();
    const [patch] = hits(
      fake,
      `/_apis/runtime/runnerscalesets/${scaleSetId}/sessions/${before.sessionId}`,
      'PATCH',
    );
    expect(patch?.body).toBe('');
    expect(after.messageQueueAccessToken).not.toBe(before.messageQueueAccessToken);
    expect(session.session).toBe(after);
    await session.getMessage(0, 1);
    expect(bearer(queuePolls(fake).at(-1)?.headers.authorization)).toBe(after.messageQueueAccessToken);
  });
});

describe('message queue (§13.29–§13.39)', () => {
  it('§13.29 GET <queue URL> with the queue token, Accept api-version and X-ScaleSetMaxCapacity (even 0)', async () => {
    const { fake, session } = await openSession();
    await session.getMessage(0, 0);
    await session.getMessage(0, 7);
    const polls = queuePolls(fake);
    expect(polls.map((p) => p.headers['x-scalesetmaxcapacity'])).toEqual(['0', '7']);
    for (const p of polls) {
      expect(`${fake.url}${p.path}`).toBe(session.session.messageQueueUrl);
      expect(p.headers.authorization).toBe(`Bearer ${session.session.messageQueueAccessToken}`);
      expect(p.headers.accept).toBe('application/json; api-version=6.0-preview');
      expect(p.headers['content-type']).toBeUndefined();
      expect(p.query.has('api-version')).toBe(false);
    }
    const admin = adminToken(fake);
    const queueCalls = seen(fake).filter((r) => r.path.startsWith('/queue/'));
    expect(queueCalls.some((r) => r.headers.authorization?.includes(admin))).toBe(false);
  });

  it('§13.30 §13.31 lastMessageId only when > 0; a 202 is null', async () => {
    const { fake, session } = await openSession({ holdMs: 100 });
    await expect(session.getMessage(0, 1)).resolves.toBeNull();
    await expect(session.getMessage(41, 1)).resolves.toBeNull();
    expect(queuePolls(fake).map((p) => p.query.get('lastMessageId'))).toEqual([null, '41']);
  });

  it('§13.32 a messageType other than RunnerScaleSetJobMessages is an error', async () => {
    const { fake, session } = await openSession();
    fake.queueJob({ scaleSet: 'sess-set' });
    fake.faults.malformedMessage('wrong-type');
    await expect(session.getMessage(0, 1)).rejects.toThrow(/unsupported message type/);
  });

  it('§13.33 job messages are grouped by type in order; unknown inner types are ignored', async () => {
    const { fake, session } = await openSession();
    const jobs = [fake.queueJob({ scaleSet: 'sess-set' }), fake.queueJob({ scaleSet: 'sess-set' })];
    fake.faults.malformedMessage('unknown-inner');
    const msg = await session.getMessage(0, 5);
    expect(msg?.jobAvailable.map((j) => j.runnerRequestId)).toEqual(jobs.map((j) => j.requestId));
    expect(msg?.statistics.totalAvailableJobs).toBe(2);
  });

  it('§13.33 a message whose body is empty has no job messages', async () => {
    const { fake, session } = await openSession();
    fake.faults.inject({
      route: 'poll',
      status: 200,
      body: JSON.stringify({
        messageId: 3,
        messageType: 'RunnerScaleSetJobMessages',
        body: '',
        statistics: {},
      }),
    });
    const msg = await session.getMessage(0, 1);
    expect(msg).toMatchObject({
      messageId: 3,
      jobAvailable: [],
      jobAssigned: [],
      jobStarted: [],
      jobCompleted: [],
    });
  });

  it.each([
    ['null-statistics', /statistics is null or missing/],
    ['empty-body', /empty response body/],
    ['bad-json', /malformed JSON|not a JSON array|invalid/],
  ] as const)('a %s message is a clear error', async (kind, pattern) => {
    const { fake, session } = await openSession();
    fake.queueJob({ scaleSet: 'sess-set' });
    fake.faults.malformedMessage(kind);
    await expect(session.getMessage(0, 1)).rejects.toThrow(pattern);
  });

  it('§13.18 a BOM-prefixed message decodes', async () => {
    const { fake, session } = await openSession();
    const job = fake.queueJob({ scaleSet: 'sess-set' });
    fake.faults.malformedMessage('bom');
    const msg = await session.getMessage(0, 1);
    expect(msg?.jobAvailable[0]?.runnerRequestId).toBe(job.requestId);
  });

  it('§13.34 a 401 on getMessage: one PATCH, one repeated GET with the new token', async () => {
    const { fake, session } = await openSession({ holdMs: 100 });
    const oldToken = session.session.messageQueueAccessToken;
    fake.faults.expireQueueTokens();
    await expect(session.getMessage(0, 1)).resolves.toBeNull();
    const polls = queuePolls(fake);
    expect(polls.map((p) => bearer(p.headers.authorization))).toEqual([
      oldToken,
      session.session.messageQueueAccessToken,
    ]);
    expect(hits(fake, /\/sessions\/[^/]+$/, 'PATCH')).toHaveLength(1);
    expect(session.session.messageQueueAccessToken).not.toBe(oldToken);
  });

  it('§13.34 a second 401 is MessageQueueTokenExpired: GET, PATCH, GET, error', async () => {
    const { fake, session } = await openSession();
    const before = fake.requests.length;
    fake.faults.inject({ route: 'poll', status: 401, times: 2 });
    await expect(session.getMessage(0, 1)).rejects.toMatchObject({ code: 'QUEUE_TOKEN_EXPIRED' });
    expect(
      seen(fake)
        .slice(before)
        .map((r) => `${r.method} ${r.path.startsWith('/queue/') ? 'queue' : 'session'}`),
    ).toEqual(['GET queue', 'PATCH session', 'GET queue']);
  });

  it('§13.35 the default per-request timeout lets a long hold complete normally', async () => {
    const { session } = await openSession({ holdMs: 1500 });
    await expect(session.getMessage(0, 1)).resolves.toBeNull();
  });

  it('§13.36 deleteMessage: DELETE <queue path>/<id> with the queue token; 204 only; 401 → one refresh + retry', async () => {
    const { fake, session } = await openSession();
    fake.queueJob({ scaleSet: 'sess-set' });
    const msg = await session.getMessage(0, 1);
    const id = msg?.messageId ?? 0;
    fake.faults.expireQueueTokens();
    await session.deleteMessage(id);
    const acks = hits(fake, new RegExp(`^/queue/[^/]+/${id}$`), 'DELETE');
    expect(acks).toHaveLength(2);
    expect(bearer(acks[1]?.headers.authorization)).toBe(session.session.messageQueueAccessToken);
    expect(acks[1]?.headers['content-type']).toBe('application/json');
    expect(hits(fake, /\/sessions\/[^/]+$/, 'PATCH')).toHaveLength(1);
    fake.faults.inject({ route: 'ack', status: 200, body: '{}' });
    await expect(session.deleteMessage(id)).rejects.toMatchObject({ status: 200 });
  });

  it('§13.37 acquireJobs: POST …/acquirejobs, JSON id array, queue token; returns value', async () => {
    const { fake, scaleSetId, session } = await openSession();
    const jobs = [fake.queueJob({ scaleSet: 'sess-set' }), fake.queueJob({ scaleSet: 'sess-set' })];
    const ids = jobs.map((j) => j.requestId);
    await expect(session.acquireJobs(ids)).resolves.toEqual(ids);
    const [post] = hits(fake, `/tenant/123/_apis/runtime/runnerscalesets/${scaleSetId}/acquirejobs`, 'POST');
    expect(post?.query.get('api-version')).toBe('6.0-preview');
    expect(post?.body).toBe(JSON.stringify(ids));
    expect(bearer(post?.headers.authorization)).toBe(session.session.messageQueueAccessToken);
    expect(
      fake
        .jobs()
        .filter((j) => ids.includes(j.requestId))
        .map((j) => j.state),
    ).not.toContain('available');
  });

  it('§13.38 a 401 on acquireJobs: one refresh, one retry', async () => {
    const { fake, session } = await openSession();
    const job = fake.queueJob({ scaleSet: 'sess-set' });
    fake.faults.expireQueueTokens();
    await expect(session.acquireJobs([job.requestId])).resolves.toEqual([job.requestId]);
    expect(hits(fake, '/acquirejobs', 'POST')).toHaveLength(2);
    expect(hits(fake, /\/sessions\/[^/]+$/, 'PATCH')).toHaveLength(1);
  });

  it('§13.39 job times: 7 fractional digits, zero time, null and absence', async () => {
    const { fake, session } = await openSession();
    const base = { runnerRequestId: 1, messageType: 'JobCompleted', result: 'succeeded', runnerName: 'r' };
    const body = JSON.stringify([
      {
        ...base,
        queueTime: '2024-09-11T15:14:20.1234567Z',
        scaleSetAssignTime: '0001-01-01T00:00:00Z',
        finishTime: null,
      },
    ]);
    fake.faults.inject({
      route: 'poll',
      status: 200,
      body: JSON.stringify({ messageId: 9, messageType: 'RunnerScaleSetJobMessages', body, statistics: {} }),
    });
    const msg = await session.getMessage(0, 1);
    expect(msg?.jobCompleted[0]).toMatchObject({
      queueTime: '2024-09-11T15:14:20.123Z',
      scaleSetAssignTime: null,
      runnerAssignTime: null,
      finishTime: null,
    });
  });
});

describe('abort and shutdown', () => {
  it('an aborted long poll rejects promptly with the reason, and close() still works', async () => {
    const { fake, session } = await openSession({ holdMs: 60_000 });
    fake.faults.holdPolls();
    const controller = new AbortController();
    const poll = session.getMessage(0, 1, controller.signal);
    await fake.waitFor(() => queuePolls(fake).length === 1 || undefined, { what: 'the poll to arrive' });
    controller.abort(new Error('shutdown'));
    await expect(poll).rejects.toThrow('shutdown');
    await session.close();
    expect(fake.sessions()).toHaveLength(0);
  });

  it('close() does not wait behind a poll in flight', async () => {
    const { fake, session } = await openSession({ holdMs: 60_000 });
    fake.faults.holdPolls();
    const controller = new AbortController();
    const poll = session.getMessage(0, 1, controller.signal).catch((e: unknown) => e);
    await fake.waitFor(() => queuePolls(fake).length === 1 || undefined, { what: 'the poll to arrive' });
    await session.close();
    expect(fake.sessions()).toHaveLength(0);
    controller.abort(new Error('done'));
    expect(await poll).toBeInstanceOf(Error);
  }, 10_000);

  it('calls on one session are serialized: a refresh waits for the poll in flight', async () => {
    const { fake, session } = await openSession({ holdMs: 100 });
    const activePolls = () => fake.sessions()[0]?.activePolls;
    fake.faults.holdPolls();
    const poll = session.getMessage(0, 1);
    await fake.waitFor(() => activePolls() === 1, { what: 'the poll to be held' });
    // The fake re-checks this on every request it records, so it sees the poll count at PATCH arrival.
    const pollsWhenPatchArrived = fake.waitFor(
      () => (hits(fake, /\/sessions\/[^/]+$/, 'PATCH').length > 0 ? { active: activePolls() } : undefined),
      { what: 'the refresh PATCH' },
    );
    const refreshed = session.refresh();
    fake.faults.releasePolls();
    await expect(poll).resolves.toBeNull();
    await refreshed;
    expect(await pollsWhenPatchArrived).toEqual({ active: 0 });
  });
});

describe('argument checks', () => {
  it('invalid ids and capacities reject without a request', async () => {
    const { fake, session } = await openSession();
    const before = fake.requests.length;
    await expect(session.getMessage(-1, 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(session.getMessage(0, 1.5)).rejects.toThrow('invalid maxCapacity');
    await expect(session.deleteMessage(Number.NaN)).rejects.toThrow('invalid messageId');
    await expect(session.acquireJobs([1, -2])).rejects.toThrow('invalid requestIds[]');
    expect(fake.requests).toHaveLength(before);
  });
});
