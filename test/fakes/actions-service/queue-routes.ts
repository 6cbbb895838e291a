import type { RouteContext } from './context.js';
import { bearer, exception, send } from './http-util.js';
import type { FakeSession } from './types.js';
import { holdUntil } from './waiting.js';

function sessionFor(ctx: RouteContext, sessionId: string): FakeSession | undefined {
  const s = ctx.state.sessions.get(sessionId);
  if (!s || bearer(ctx.req) !== s.queueToken) {
    send(ctx.res, 'queue', 401, exception('UnauthorizedException', 'The message queue token is not valid.'));
    return undefined;
  }
  return s;
}

/** F15: the long poll. */
export async function poll(ctx: RouteContext, sessionId: string): Promise<void> {
  const { state, faults, res } = ctx;
  const s = sessionFor(ctx, sessionId);
  if (!s) return;
  const ss = state.scaleSets.get(s.scaleSetId);
  if (!ss) {
    send(res, 'queue', 404, exception('RunnerScaleSetNotFoundException', 'scale set is gone'));
    return;
  }
  const cap = Number(ctx.req.headers['x-scalesetmaxcapacity']);
  if (Number.isFinite(cap) && cap >= 0) ss.maxCapacity = cap;
  state.assignAcquired(ss.id);
  if (faults.pollDrops > 0) {
    faults.pollDrops--;
    ctx.req.socket.destroy();
    return;
  }
  s.activePolls++;
  s.lastSeen = Date.now();
  try {
    if (faults.pollsHeld) {
      await holdUntil(
        state,
        res,
        2 ** 31 - 1,
        () => (faults.pollsHeld ? undefined : true),
        (wake) => {
          faults.onReleasePolls = wake;
          return () => {};
        },
      );
      if (res.destroyed) return;
    }
    const last = Number(ctx.query.get('lastMessageId') ?? 0) || 0;
    state.reannounce(ss.id, ctx.opts.reannounceMs);
    const msg = await holdUntil(state, res, ctx.opts.holdMs, () => state.nextMessage(ss.id, last));
    if (res.destroyed) return;
    if (!state.sessions.has(sessionId)) {
      send(res, 'queue', 401, exception('UnauthorizedException', 'session is gone'));
      return;
    }
    if (!msg) {
      send(res, 'queue', 202);
      return;
    }
    const kind = faults.malformed.shift();
    const envelope: Record<string, unknown> = {
      messageId: msg.messageId,
      messageType: kind === 'wrong-type' ? 'RunnerScaleSetSomethingElse' : 'RunnerScaleSetJobMessages',
      body: JSON.stringify(
        kind === 'unknown-inner' ? [...msg.events, { messageType: 'JobFrobnicated' }] : msg.events,
      ),
      statistics: kind === 'null-statistics' ? null : msg.statistics,
    };
    if (kind === 'empty-body') send(res, 'queue', 200, '', { 'content-type': 'application/json' });
    else if (kind === 'bad-json')
      send(res, 'queue', 200, '{"messageId":', { 'content-type': 'application/json' });
    else if (kind === 'bom')
      send(res, 'queue', 200, `\uFEFF${JSON.stringify(envelope)}`, { 'content-type': 'application/json' });
    else send(res, 'queue', 200, envelope);
  } finally {
    s.activePolls--;
    s.lastSeen = Date.now();
  }
}

/** F16: acknowledge. */
export function ack(ctx: RouteContext, sessionId: string, messageId: number): void {
  const s = sessionFor(ctx, sessionId);
  if (!s) return;
  s.lastSeen = Date.now();
  if (!ctx.state.ackMessage(s.scaleSetId, messageId)) {
    send(ctx.res, 'queue', 404, exception('MessageNotFoundException', `message ${messageId} not found`));
    return;
  }
  send(ctx.res, 'queue', 204);
}
