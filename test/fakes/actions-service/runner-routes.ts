import type { ServerResponse } from 'node:http';
import type { RouteContext } from './context.js';
import { send } from './http-util.js';
import { holdUntil } from './waiting.js';

const LEASE_GRACE_MS = 5_000;
/** Jobs whose lease was ever opened (a completed lease is no longer in the map). */
const leased = new WeakSet<object>();

/** Open lease connections by job request id: a drop before /complete means the runner died. */
const leases = new WeakMap<object, Map<number, ServerResponse>>();

function leaseMap(ctx: RouteContext): Map<number, ServerResponse> {
  let m = leases.get(ctx.state);
  if (!m) {
    m = new Map();
    leases.set(ctx.state, m);
  }
  return m;
}

/** The fake runner protocol of test/fakes/CONTRACT.md. */
export async function fakeRunner(
  ctx: RouteContext,
  id: number,
  secret: string,
  action: string,
): Promise<void> {
  const { state, res } = ctx;
  const r = state.runners.get(id);
  if (!r || r.secret !== secret) {
    send(res, 'runner', 410, 'runner is not registered');
    return;
  }
  if (action === 'claim') {
    if (r.status === 'offline') {
      r.status = 'idle';
      state.changed();
    }
    const job = await holdUntil(state, res, ctx.opts.runnerClaimHoldMs, () => {
      if (!state.runners.has(id)) return 'gone' as const;
      return r.status === 'idle' ? state.claimFor(r) : undefined;
    });
    if (res.destroyed) return;
    if (job === 'gone') send(res, 'runner', 410, 'runner was removed');
    else if (job) {
      send(res, 'runner', 200, `JOB ${job.requestId}\n${job.script}\n`);
      // A runner that dies between claim and lease would otherwise leave the job "running" forever.
      setTimeout(() => {
        if (job.state === 'started' && !leaseMap(ctx).has(job.requestId) && !leased.has(job)) {
          state.completeJob(job, 'failed');
        }
      }, LEASE_GRACE_MS).unref();
    } else send(res, 'runner', 204);
    return;
  }
  const job = r.jobRequestId === undefined ? undefined : state.jobs.get(r.jobRequestId);
  if (!job) {
    send(res, 'runner', 409, 'no job is running on this runner');
    return;
  }
  if (action === 'lease') {
    leaseMap(ctx).set(job.requestId, res);
    leased.add(job);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('leased\n');
    res.on('close', () => {
      leaseMap(ctx).delete(job.requestId);
      if (!res.writableEnded && job.state !== 'completed') state.completeJob(job, 'failed');
    });
    return;
  }
  if (action === 'complete') {
    const exit = Number(ctx.query.get('exit') ?? '0');
    state.completeJob(job, exit === 0 ? 'succeeded' : 'failed');
    const lease = leaseMap(ctx).get(job.requestId);
    lease?.end('done\n');
    send(res, 'runner', 200, 'ok\n');
    return;
  }
  send(res, 'runner', 404, `unknown action ${action}`);
}
