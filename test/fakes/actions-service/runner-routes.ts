import type { RouteContext } from './context.js';
import { send } from './http-util.js';
import { claim, complete, jobOf, openLease, runnerAt } from './runner-side.js';

/** busybox wget gives up on a connection silent for 15 minutes; a byte a minute keeps a long job's lease. */
const LEASE_KEEPALIVE_MS = 60_000;

/** The fake runner protocol of test/fakes/CONTRACT.md over HTTP: claim → lease → complete. */
export async function fakeRunner(
  ctx: RouteContext,
  id: number,
  secret: string,
  action: string,
): Promise<void> {
  const { state, res } = ctx;
  const r = runnerAt(state, id, secret);
  if (!r) {
    send(res, 'runner', 410, 'runner is not registered\n');
    return;
  }
  if (action === 'claim') {
    // Long request: the next assigned job of the runner's scale set, 204 after the hold, 410 if removed.
    const c = claim(state, ctx.opts, r);
    const onClose = () => c.drop();
    res.on('close', onClose);
    const answer = await c.answer;
    res.off('close', onClose);
    if (res.destroyed) {
      c.drop();
      return;
    }
    if (answer === 'busy') send(res, 'runner', 409, 'this runner already has a job\n');
    else if (answer === 'gone') send(res, 'runner', 410, 'runner was removed\n');
    else if (answer === 'none') send(res, 'runner', 204);
    else send(res, 'runner', 200, `JOB ${answer.requestId}\n${answer.script}\n`);
    return;
  }
  const job = jobOf(state, r);
  if (!job) {
    send(res, 'runner', 409, 'no job is running on this runner\n');
    return;
  }
  if (action === 'lease') {
    // Held open while the job runs; a drop before /complete means the runner died: the job fails.
    const lease = openLease(state, job, () => res.end('done\n'));
    if (!lease) {
      send(res, 'runner', 409, 'the job is not waiting for a lease\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('leased\n');
    const keepalive = setInterval(() => res.write('.\n'), LEASE_KEEPALIVE_MS);
    res.on('close', () => {
      clearInterval(keepalive);
      lease.closed(res.writableEnded);
    });
    state.changed();
    return;
  }
  complete(state, job, Number(ctx.query.get('exit') ?? '0'));
  send(res, 'runner', 200, 'ok\n');
}
