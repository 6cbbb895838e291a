import { describe, expect, it, onTestFinished } from 'vitest';
import type { FakeActionsService, FakeOptions } from './actions-service/index.js';
import {
  type Admin,
  acquireJobs,
  actions,
  admin,
  drain,
  http,
  jitConfig,
  type Session,
  scaleSetWithSession,
  startTestFake,
} from './actions-service/testing.js';

interface World {
  fake: FakeActionsService;
  a: Admin;
  s: Session;
}

async function world(opts: FakeOptions = {}): Promise<World> {
  const fake = await startTestFake(opts);
  onTestFinished(() => fake.close());
  const a = await admin(fake);
  return { fake, a, s: await scaleSetWithSession(a) };
}

/** Queues jobs and takes them through announcement and acquisition, as a listener would. */
async function assignedJobs(w: World, scripts: string[]) {
  const jobs = scripts.map((script) => w.fake.queueJob({ scaleSet: 'linux', script }));
  await drain(w.s, jobs.length);
  await acquireJobs(
    w.a,
    w.s,
    jobs.map((j) => j.requestId),
  );
  await drain(w.s, jobs.length);
  return jobs;
}

describe('fake runner link (the runner protocol in process)', () => {
  it('runs a job end to end through the job model: messages, statistics, registration removed', async () => {
    const w = await world();
    const { id, jit } = await jitConfig(w.a, w.s.scaleSetId, 'runner-1');
    const link = w.fake.runnerLink(jit);
    expect(link.runnerId).toBe(id);
    const [job] = await assignedJobs(w, ['exit 3']);

    const claimed = await link.claim();
    expect(claimed).toEqual({ requestId: job!.requestId, script: 'exit 3' });
    expect(w.fake.statistics(w.s.scaleSetId)).toMatchObject({
      totalRunningJobs: 1,
      totalBusyRunners: 1,
      totalRegisteredRunners: 1,
    });
    expect(await link.complete(3)).toBe('ok');
    expect(job).toMatchObject({ state: 'completed', result: 'failed', runnerName: 'runner-1', runnerId: id });
    expect(w.fake.runners()).toEqual([]);
    expect(await link.complete(0)).toBe('gone');
    expect(await link.claim()).toBe('gone');

    const [started, completed] = await drain(w.s, 2);
    expect(started).toMatchObject({ messageType: 'JobStarted', runnerId: id, runnerName: 'runner-1' });
    expect(completed).toMatchObject({
      messageType: 'JobCompleted',
      result: 'failed',
      runnerName: 'runner-1',
    });
    // A link is not a request of the service.
    expect(w.fake.requests.some((r) => r.route === 'fake-runner')).toBe(false);
  });

  it('answers none after the hold, gone once removed, and a dropped claim leaves the runner offline', async () => {
    const w = await world({ runnerClaimHoldMs: 50 });
    const { id, jit } = await jitConfig(w.a, w.s.scaleSetId, 'runner-1');
    const link = w.fake.runnerLink(jit);
    expect(await link.claim()).toBe('none');
    expect(w.fake.runners()[0]?.status).toBe('idle');

    const ac = new AbortController();
    const dropped = link.claim(ac.signal);
    ac.abort();
    expect(await dropped).toBe('none');
    expect(w.fake.runners()[0]?.status).toBe('offline');

    const waiting = link.claim();
    expect((await actions(w.a, 'DELETE', `_apis/distributedtask/pools/0/agents/${id}`)).status).toBe(204);
    expect(await waiting).toBe('gone');
  });

  it('hands jobs to waiting runners oldest claim first, one job each, over HTTP and link alike', async () => {
    const w = await world();
    const { jit: jitA } = await jitConfig(w.a, w.s.scaleSetId, 'a');
    const { jit: jitB } = await jitConfig(w.a, w.s.scaleSetId, 'b');
    const { jit: jitC } = await jitConfig(w.a, w.s.scaleSetId, 'c');
    const urlC = (JSON.parse(Buffer.from(jitC, 'base64').toString()) as { runnerUrl: string }).runnerUrl;
    const a = w.fake.runnerLink(jitA).claim();
    const b = w.fake.runnerLink(jitB).claim();
    const c = http(`${urlC}/claim`, { method: 'POST' });
    await w.fake.waitFor(() => w.fake.runners().every((r) => r.status === 'idle'), { what: 'all idle' });

    const [j1, j2] = await assignedJobs(w, ['echo 1', 'echo 2']);
    expect(await a).toEqual({ requestId: j1!.requestId, script: 'echo 1' });
    expect(await b).toEqual({ requestId: j2!.requestId, script: 'echo 2' });
    expect(w.fake.runners().find((r) => r.name === 'c')?.status).toBe('idle');
    const [j3] = await assignedJobs(w, ['echo 3']);
    expect((await c).text).toBe(`JOB ${j3!.requestId}\necho 3\n`);
  });

  it('holds a lease while the job runs; dropping it fails the job', async () => {
    const w = await world();
    const { jit } = await jitConfig(w.a, w.s.scaleSetId, 'runner-1');
    const { jit: jit2 } = await jitConfig(w.a, w.s.scaleSetId, 'runner-2');
    const [j1, j2] = await assignedJobs(w, ['sleep 30', 'sleep 30']);

    const link = w.fake.runnerLink(jit);
    await link.claim();
    const lease = link.lease();
    expect(j1!.leased).toBe(true);
    expect(await link.lease()).toBe('refused');
    expect(await link.complete(0)).toBe('ok');
    expect(await lease).toBe('ended');
    expect(j1!.result).toBe('succeeded');

    const link2 = w.fake.runnerLink(jit2);
    await link2.claim();
    const ac = new AbortController();
    const lease2 = link2.lease(ac.signal);
    ac.abort();
    expect(await lease2).toBe('dropped');
    expect(j2).toMatchObject({ state: 'completed', result: 'failed' });
  });

  it('recordRequests: false keeps no requests but still counts them by route', async () => {
    const w = await world({ recordRequests: false });
    await drain(w.s, 0);
    w.fake.queueJob({ scaleSet: 'linux' });
    await drain(w.s, 1);
    expect(w.fake.requests).toEqual([]);
    expect(w.fake.requestCounts()).toMatchObject({
      'registration-token': 1,
      'runner-registration': 1,
      'scale-sets': 1,
      sessions: 1,
      poll: 1,
      ack: 1,
    });
  });
});
