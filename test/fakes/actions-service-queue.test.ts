import { describe, expect, it, onTestFinished } from 'vitest';
import type { FakeActionsService, FakeOptions } from './actions-service/index.js';
import {
  ack,
  acquireJobs,
  actions,
  admin,
  drain,
  http,
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

describe('fake Actions service: sessions', () => {
  it('allows one session per scale set (409), refreshes by rotating the queue token, deletes', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    expect(fake.sessions()).toMatchObject([
      { sessionId: s.sessionId, scaleSetId: s.scaleSetId, ownerName: 'test-host' },
    ]);

    const second = await actions(a, 'POST', `_apis/runtime/runnerscalesets/${s.scaleSetId}/sessions`, {
      sessionId: '00000000-0000-0000-0000-000000000000',
      ownerName: 'other',
    });
    expect(second.status).toBe(409);
    expect(String(second.json?.typeName)).toContain('RunnerScaleSetSessionConflictException');
    const unknown = await actions(a, 'POST', '_apis/runtime/runnerscalesets/99/sessions', { ownerName: 'x' });
    expect(unknown.status).toBe(404);
    expect(String(unknown.json?.typeName)).toContain('RunnerScaleSetNotFoundException');

    const path = `_apis/runtime/runnerscalesets/${s.scaleSetId}/sessions/${s.sessionId}`;
    const refreshed = await actions(a, 'PATCH', path);
    expect(refreshed.status).toBe(200);
    const newToken = String(refreshed.json?.messageQueueAccessToken);
    expect(newToken).not.toBe(s.queueToken);
    expect(refreshed.json?.statistics).toMatchObject({ totalAssignedJobs: 0 });
    expect((await poll(s)).status).toBe(401);
    expect((await poll({ ...s, queueToken: newToken })).status).toBe(202);

    expect((await actions(a, 'DELETE', path)).status).toBe(204);
    const again = await actions(a, 'DELETE', path);
    expect(again.status).toBe(400);
    expect(String(again.json?.typeName)).toContain('RunnerScaleSetSessionExpiredException');
    expect((await actions(a, 'PATCH', path)).status).toBe(400);
    expect(fake.sessions()).toEqual([]);
    await openSession(a, s.scaleSetId);
  });
});

describe('fake Actions service: message queue', () => {
  it('answers 202 after holding a poll, and a message as soon as one arrives', async () => {
    const fake = await start({ holdMs: 400 });
    const s = await scaleSetWithSession(await admin(fake));
    const t0 = Date.now();
    const empty = await poll(s);
    expect(empty.status).toBe(202);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);

    const held = poll(s);
    await fake.waitFor(() => fake.sessions()[0]?.activePolls === 1, { what: 'poll held' });
    fake.queueJob({ scaleSet: 'linux' });
    const m = await held;
    expect(m.status).toBe(200);
    expect(m.json).toMatchObject({ messageType: 'RunnerScaleSetJobMessages' });
    expect(m.jobs.map((j) => j.messageType)).toEqual(['JobAvailable']);
  });

  it('batches job messages, orders ids, redelivers until acked and honours lastMessageId', async () => {
    const fake = await start({ holdMs: 200 });
    const s = await scaleSetWithSession(await admin(fake));
    const j1 = fake.queueJob({ scaleSet: 'linux', repository: 'acme/app', displayName: 'build' });
    const j2 = fake.queueJob({ scaleSet: 'linux' });
    const first = await poll(s);
    expect(first.jobs.map((j) => j.runnerRequestId)).toEqual([j1.requestId, j2.requestId]);
    expect(first.jobs[0]).toMatchObject({
      messageType: 'JobAvailable',
      repositoryName: 'app',
      ownerName: 'acme',
      jobDisplayName: 'build',
      requestLabels: ['linux'],
      acquireJobUrl: `${fake.url}/tenant/123/_apis/runtime/runnerscalesets/${s.scaleSetId}/acquirejobs`,
      scaleSetAssignTime: '0001-01-01T00:00:00Z',
      finishTime: '0001-01-01T00:00:00Z',
    });
    expect(Date.parse(String(first.jobs[0]?.queueTime))).toBeGreaterThan(Date.now() - 60_000);
    expect(first.json?.statistics).toMatchObject({ totalAvailableJobs: 2, totalAssignedJobs: 0 });

    // Not acked: the same message again; past it (lastMessageId): the next one.
    expect((await poll(s)).messageId).toBe(first.messageId);
    const j3 = fake.queueJob({ scaleSet: 'linux' });
    const second = await poll(s, first.messageId);
    expect(second.messageId).toBeGreaterThan(first.messageId);
    expect(second.jobs.map((j) => j.runnerRequestId)).toEqual([j3.requestId]);
    expect(second.json?.statistics).toMatchObject({ totalAvailableJobs: 3 });

    expect((await ack(s, first.messageId)).status).toBe(204);
    expect((await ack(s, first.messageId)).status).toBe(404);
    expect((await poll(s)).messageId).toBe(second.messageId);
    await ack(s, second.messageId);
    expect((await poll(s, second.messageId)).status).toBe(202);
  });

  it('puts at most 50 job messages in one message', async () => {
    const fake = await start();
    const s = await scaleSetWithSession(await admin(fake));
    for (let i = 0; i < 60; i++) fake.queueJob({ scaleSet: 'linux' });
    const first = await poll(s);
    expect(first.jobs).toHaveLength(50);
    expect(first.json?.statistics).toMatchObject({ totalAvailableJobs: 60 });
    const second = await poll(s, first.messageId);
    expect(second.jobs).toHaveLength(10);
  });

  it('keeps unacked messages for the next session of the scale set', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    const job = fake.queueJob({ scaleSet: 'linux' });
    await actions(a, 'DELETE', `_apis/runtime/runnerscalesets/${s.scaleSetId}/sessions/${s.sessionId}`);
    const next = await openSession(a, s.scaleSetId);
    expect((await poll(next)).jobs.map((j) => j.runnerRequestId)).toEqual([job.requestId]);
  });
});

describe('fake Actions service: acquiring and assigning jobs', () => {
  it('acquires with the queue token only, returns the acquired subset and assigns', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    const job = fake.queueJob({ scaleSet: 'linux' });
    await drain(s, 1);
    expect(
      (await actions(a, 'POST', `_apis/runtime/runnerscalesets/${s.scaleSetId}/acquirejobs`, [job.requestId]))
        .status,
    ).toBe(401);

    const acquired = await acquireJobs(a, s, [job.requestId, 999_999]);
    expect(acquired.json).toEqual({ count: 1, value: [job.requestId] });
    expect((await acquireJobs(a, s, [job.requestId])).json).toEqual({ count: 0, value: [] });
    expect(job.state).toBe('assigned');
    expect(job.history.map((h) => h.state)).toEqual(['available', 'acquired', 'assigned']);

    const assigned = await poll(s);
    expect(assigned.jobs).toMatchObject([{ messageType: 'JobAssigned', runnerRequestId: job.requestId }]);
    expect(Date.parse(String(assigned.jobs[0]?.scaleSetAssignTime))).toBeGreaterThan(Date.now() - 60_000);
    expect(assigned.json?.statistics).toMatchObject({
      totalAvailableJobs: 0,
      totalAssignedJobs: 1,
      totalRunningJobs: 0,
    });
  });

  it('never assigns more jobs than the last X-ScaleSetMaxCapacity', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    const jobs = [1, 2, 3].map(() => fake.queueJob({ scaleSet: 'linux' }));
    await drain(s, 3, 1);
    expect(fake.scaleSets()[0]?.maxCapacity).toBe(1);
    await acquireJobs(
      a,
      s,
      jobs.map((j) => j.requestId),
    );
    expect(jobs.map((j) => j.state)).toEqual(['assigned', 'acquired', 'acquired']);
    expect(fake.statistics(s.scaleSetId)).toMatchObject({ totalAcquiredJobs: 2, totalAssignedJobs: 3 });

    // A poll advertising more room lets the next jobs through.
    await poll(s, 0, 2);
    expect(jobs.map((j) => j.state)).toEqual(['assigned', 'assigned', 'acquired']);
  });

  it('announces a job again when it is still available after its announcement was acked', async () => {
    const fake = await start({ reannounceMs: 100 });
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    const job = fake.queueJob({ scaleSet: 'linux' });
    const [first] = await drain(s, 1);
    expect(first?.messageType).toBe('JobAvailable');
    // The acquire "failed": nothing acquired. The job must come back.
    const [again] = await drain(s, 1);
    expect(again).toMatchObject({ messageType: 'JobAvailable', runnerRequestId: job.requestId });
    await acquireJobs(a, s, [job.requestId]);
    const [assigned] = await drain(s, 1);
    expect(assigned?.messageType).toBe('JobAssigned');
  });

  it('lists acquirable jobs (legacy route), 204 when there are none', async () => {
    const fake = await start();
    const a = await admin(fake);
    const s = await scaleSetWithSession(a);
    const path = `_apis/runtime/runnerscalesets/${s.scaleSetId}/acquirablejobs`;
    expect((await actions(a, 'GET', path)).status).toBe(204);
    const job = fake.queueJob({ scaleSet: 'linux' });
    const r = await actions(a, 'GET', path);
    expect(r.json).toMatchObject({
      count: 1,
      value: [{ runnerRequestId: job.requestId, requestLabels: ['linux'] }],
    });
    expect((await http(`${a.url}${path}`, { token: a.token })).status).toBe(400);
  });
});
