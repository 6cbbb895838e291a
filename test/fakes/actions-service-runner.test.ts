import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  type RunnerProcess,
  runRunner,
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

/** Queues a job and takes it through announcement and acquisition, as a listener would. */
async function assignedJob(w: World, script: string) {
  const job = w.fake.queueJob({ scaleSet: 'linux', script });
  await drain(w.s, 1);
  await acquireJobs(w.a, w.s, [job.requestId]);
  await drain(w.s, 1);
  return job;
}

async function runner(
  w: World,
  name: string,
  shell: 'sh' | 'busybox' = 'sh',
): Promise<RunnerProcess & { id: number }> {
  const { id, jit } = await jitConfig(w.a, w.s.scaleSetId, name);
  const proc = await runRunner(jit, shell);
  onTestFinished(() => proc.dispose());
  return { ...proc, id };
}

describe('fake runner (run.sh) against the fake service', () => {
  it.each(['sh', 'busybox'] as const)('runs a job end to end under %s', async (shell) => {
    const w = await world();
    const job = await assignedJob(w, 'echo "job $RUNNER_JOB_ID" > out.txt');
    const r = await runner(w, 'runner-1', shell);

    expect(await r.exit).toBe(0);
    expect(job).toMatchObject({
      state: 'completed',
      result: 'succeeded',
      runnerName: 'runner-1',
      runnerId: r.id,
    });
    expect(await readFile(join(r.dir, '_work', 'out.txt'), 'utf8')).toBe(`job ${job.requestId}\n`);
    expect(w.fake.runners()).toEqual([]);

    const [started, completed] = await drain(w.s, 2);
    expect(started).toMatchObject({ messageType: 'JobStarted', runnerId: r.id, runnerName: 'runner-1' });
    expect(Date.parse(String(started?.runnerAssignTime))).toBeGreaterThan(Date.now() - 60_000);
    expect(completed).toMatchObject({
      messageType: 'JobCompleted',
      result: 'succeeded',
      runnerName: 'runner-1',
    });
    expect(Date.parse(String(completed?.finishTime))).toBeGreaterThanOrEqual(
      Date.parse(String(started?.runnerAssignTime)),
    );
    expect(w.fake.statistics(w.s.scaleSetId)).toMatchObject({
      totalAssignedJobs: 0,
      totalRegisteredRunners: 0,
    });
  });

  it('reports a failing script as a failed job and still exits 0', async () => {
    const w = await world();
    const job = await assignedJob(w, 'exit 3');
    const r = await runner(w, 'runner-1');
    expect(await r.exit).toBe(0);
    expect(job.result).toBe('failed');
    expect(r.output()).toContain(`job ${job.requestId} exited 3`);
  });

  it('fails the job when the runner is killed mid-job (lease dropped) and removes the registration', async () => {
    const w = await world();
    const job = await assignedJob(w, 'sleep 30');
    const r = await runner(w, 'runner-1');
    await w.fake.waitFor(() => job.leased, { what: 'lease opened' });
    expect(w.fake.statistics(w.s.scaleSetId)).toMatchObject({
      totalRunningJobs: 1,
      totalAssignedJobs: 1,
      totalRegisteredRunners: 1,
      totalBusyRunners: 1,
      totalIdleRunners: 0,
    });
    const busy = await actions(w.a, 'DELETE', `_apis/distributedtask/pools/0/agents/${r.id}`);
    expect(busy.status).toBe(409);
    expect(String(busy.json?.typeName)).toContain('JobStillRunningException');

    r.killGroup();
    await w.fake.waitFor(() => job.state === 'completed', { what: 'job to fail' });
    expect(job.result).toBe('failed');
    expect(w.fake.runners()).toEqual([]);
    const [, completed] = await drain(w.s, 2);
    expect(completed).toMatchObject({
      messageType: 'JobCompleted',
      result: 'failed',
      runnerName: 'runner-1',
    });
  });

  it('drops the lease when run.sh gets SIGTERM mid-job', async () => {
    const w = await world();
    const job = await assignedJob(w, 'sleep 30');
    const r = await runner(w, 'runner-1');
    await w.fake.waitFor(() => job.leased, { what: 'lease opened' });
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(143);
    await w.fake.waitFor(() => job.state === 'completed', { what: 'job to fail' });
    expect(job.result).toBe('failed');
  });

  it('claims again after a 204 and exits 1 once the runner is removed (410)', async () => {
    const w = await world({ runnerClaimHoldMs: 100 });
    const r = await runner(w, 'runner-1');
    const claims = () => w.fake.requests.filter((q) => q.path.endsWith('/claim')).length;
    await w.fake.waitFor(() => claims() >= 3, { what: 'three claims' });
    expect(w.fake.runners()[0]?.status).toBe('idle');
    expect(w.fake.statistics(w.s.scaleSetId)).toMatchObject({
      totalRegisteredRunners: 1,
      totalIdleRunners: 1,
    });

    expect((await actions(w.a, 'DELETE', `_apis/distributedtask/pools/0/agents/${r.id}`)).status).toBe(204);
    expect(await r.exit).toBe(1);
    expect(r.output()).toContain('410');
  });

  it('gives up with exit 1 when the service stays unreachable', async () => {
    const w = await world();
    const { jit } = await jitConfig(w.a, w.s.scaleSetId, 'orphan');
    await w.fake.close();
    const proc = await runRunner(jit);
    onTestFinished(() => proc.dispose());
    expect(await proc.exit).toBe(1);
    expect(proc.output()).toMatch(/POST claim failed 5 times; last: HTTP 000/);
  });

  it('gives a waiting runner the next assigned job, and one job per runner in FIFO order', async () => {
    const w = await world();
    const runnerUrl = async (name: string) => {
      const { jit } = await jitConfig(w.a, w.s.scaleSetId, name);
      return (JSON.parse(Buffer.from(jit, 'base64').toString()) as { runnerUrl: string }).runnerUrl;
    };
    const waiting = await runnerUrl('waiting');
    const claim = http(`${waiting}/claim`, { method: 'POST' });
    await w.fake.waitFor(() => w.fake.runners()[0]?.status === 'idle', { what: 'runner idle' });
    const first = await assignedJob(w, 'echo first');
    const answer = await claim;
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(`JOB ${first.requestId}\necho first\n`);
    expect(first).toMatchObject({ state: 'started', runnerName: 'waiting' });

    // Two jobs already assigned when a runner claims: it gets the older one, and only that one.
    const a = w.fake.queueJob({ scaleSet: 'linux' });
    const b = w.fake.queueJob({ scaleSet: 'linux' });
    await drain(w.s, 2);
    await acquireJobs(w.a, w.s, [a.requestId, b.requestId]);
    const late = await http(`${await runnerUrl('late')}/claim`, { method: 'POST' });
    expect(late.text).toBe(`JOB ${a.requestId}\ntrue\n`);
    expect([a.state, a.runnerName, b.state]).toEqual(['started', 'late', 'assigned']);
  });

  it('fails a job whose runner never opens its lease', async () => {
    const w = await world({ leaseGraceMs: 100 });
    const { jit } = await jitConfig(w.a, w.s.scaleSetId, 'manual');
    const url = (JSON.parse(Buffer.from(jit, 'base64').toString()) as { runnerUrl: string }).runnerUrl;
    const job = await assignedJob(w, 'true');
    expect((await http(`${url}/claim`, { method: 'POST' })).status).toBe(200);
    await w.fake.waitFor(() => job.state === 'completed', { what: 'job to fail without a lease' });
    expect(job.result).toBe('failed');
    expect((await http(`${url}/claim`, { method: 'POST' })).status).toBe(410);
  });

  it('cancels a job that never started: JobCompleted canceled without a runner', async () => {
    const w = await world();
    const job = await assignedJob(w, 'true');
    w.fake.cancelJob(job.requestId);
    const [completed] = await drain(w.s, 1);
    expect(completed).toMatchObject({
      messageType: 'JobCompleted',
      result: 'canceled',
      runnerName: '',
      runnerAssignTime: '0001-01-01T00:00:00Z',
    });
    expect(w.fake.statistics(w.s.scaleSetId).totalAssignedJobs).toBe(0);
  });
});
