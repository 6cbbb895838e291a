import type { RouteContext } from './context.js';
import { send } from './http-util.js';
import { claimFor, completeJob } from './jobs.js';
import type { FakeJob, FakeRunner } from './types.js';
import { holdUntil } from './waiting.js';

/** busybox wget gives up on a connection silent for 15 minutes; a byte a minute keeps a long job's lease. */
const LEASE_KEEPALIVE_MS = 60_000;

/** The fake runner protocol of test/fakes/CONTRACT.md: claim → lease → complete. */
export async function fakeRunner(
  ctx: RouteContext,
  id: number,
  secret: string,
  action: string,
): Promise<void> {
  const r = ctx.state.runners.get(id);
  if (!r || r.secret !== secret) {
    send(ctx.res, 'runner', 410, 'runner is not registered\n');
    return;
  }
  if (action === 'claim') return claim(ctx, r);
  const job = r.jobRequestId === undefined ? undefined : ctx.state.jobs.get(r.jobRequestId);
  if (!job) {
    send(ctx.res, 'runner', 409, 'no job is running on this runner\n');
    return;
  }
  if (action === 'lease') lease(ctx, job);
  else complete(ctx, job);
}

/** Long request: answers with the next assigned job of the runner's scale set, 204 after the hold, 410 if removed. */
async function claim(ctx: RouteContext, r: FakeRunner): Promise<void> {
  const { state, res } = ctx;
  if (r.status === 'busy') {
    send(res, 'runner', 409, 'this runner already has a job\n');
    return;
  }
  r.status = 'idle';
  state.changed();
  const job = await holdUntil(state, res, ctx.opts.runnerClaimHoldMs, () =>
    state.runners.has(r.id) ? claimFor(state, r) : ('gone' as const),
  );
  if (res.destroyed) {
    // The runner went away while waiting; it still is registered, but nobody is there.
    if (state.runners.has(r.id) && r.status === 'idle') {
      r.status = 'offline';
      state.changed();
    }
    return;
  }
  if (job === 'gone') {
    send(res, 'runner', 410, 'runner was removed\n');
    return;
  }
  if (!job) {
    send(res, 'runner', 204);
    return;
  }
  send(res, 'runner', 200, `JOB ${job.requestId}\n${job.script}\n`);
  // A runner that dies between claim and lease would otherwise leave the job running forever.
  state.later(ctx.opts.leaseGraceMs, () => {
    if (job.state === 'started' && !job.leased) completeJob(state, job, 'failed');
  });
}

/** Held open while the job runs; a drop before /complete means the runner died: the job fails. */
function lease(ctx: RouteContext, job: FakeJob): void {
  const { state, res } = ctx;
  if (job.state !== 'started' || job.leased) {
    send(res, 'runner', 409, 'the job is not waiting for a lease\n');
    return;
  }
  job.leased = true;
  state.leases.set(job.requestId, res);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('leased\n');
  const keepalive = setInterval(() => res.write('.\n'), LEASE_KEEPALIVE_MS);
  res.on('close', () => {
    clearInterval(keepalive);
    if (state.leases.get(job.requestId) === res) state.leases.delete(job.requestId);
    if (!res.writableEnded) completeJob(state, job, 'failed');
  });
  state.changed();
}

function complete(ctx: RouteContext, job: FakeJob): void {
  const exit = Number(ctx.query.get('exit') ?? '0');
  completeJob(ctx.state, job, exit === 0 ? 'succeeded' : 'failed');
  send(ctx.res, 'runner', 200, 'ok\n');
}
