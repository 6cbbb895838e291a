import type { RouteContext } from './context.js';
import { bearer, exception, send } from './http-util.js';
import { assignAcquired, scheduleReannounce } from './jobs.js';
import { renderMessage } from './malformed.js';
import type { StoredMessage } from './messages.js';
import type { FakeSession } from './types.js';
import { holdUntil } from './waiting.js';

const FOREVER_MS = 2 ** 31 - 1;

/** The session whose current queue token the request carries; else 401 (§6.6 makes clients refresh). */
function sessionFor(ctx: RouteContext, sessionId: string): FakeSession | undefined {
  const s = ctx.state.sessions.get(sessionId);
  if (!s || bearer(ctx.req) !== s.queueToken) {
    send(ctx.res, 'queue', 401, exception('UnauthorizedException', 'The message queue token is not valid.'));
    return undefined;
  }
  s.lastSeen = Date.now();
  return s;
}

/**
 * F15, the long poll: the oldest unacked message with id > lastMessageId at once, else hold until one
 * comes or `holdMs` passes (202). `holdPolls()` freezes polls in either phase; a release starts a fresh hold.
 */
export async function poll(ctx: RouteContext, sessionId: string): Promise<void> {
  const { state, faults, res } = ctx;
  const s = sessionFor(ctx, sessionId);
  if (!s) return;
  const capacity = Number(ctx.req.headers['x-scalesetmaxcapacity']);
  const ss = state.scaleSets.get(s.scaleSetId)!;
  if (Number.isSafeInteger(capacity) && capacity >= 0) ss.maxCapacity = capacity;
  assignAcquired(state, ss.id);
  if (faults.pollDrops > 0) {
    faults.pollDrops--;
    ctx.req.socket.destroy();
    return;
  }
  const last = Number(ctx.query.get('lastMessageId') ?? 0) || 0;
  s.activePolls++;
  state.changed();
  try {
    let found: StoredMessage | 'gone' | undefined;
    for (;;) {
      if (faults.pollsHeld) {
        await holdUntil(state, res, FOREVER_MS, () => (faults.pollsHeld ? undefined : true));
        if (res.destroyed) return;
      }
      found = await holdUntil(state, res, ctx.opts.holdMs, () => {
        if (!state.sessions.has(sessionId)) return 'gone';
        if (faults.pollsHeld) return undefined;
        return state.queue(ss.id)?.next(last);
      });
      if (res.destroyed) return;
      if (!faults.pollsHeld) break;
    }
    if (found === 'gone') {
      send(res, 'queue', 401, exception('UnauthorizedException', 'The message session was deleted.'));
    } else if (found === undefined) {
      send(res, 'queue', 202);
    } else {
      const envelope = {
        messageId: found.messageId,
        messageType: 'RunnerScaleSetJobMessages',
        body: JSON.stringify(found.events),
        statistics: state.statistics(ss.id),
      };
      send(res, 'queue', 200, renderMessage(envelope, faults.malformedFor(found.messageId)), {
        'content-type': 'application/json; charset=utf-8',
      });
    }
  } finally {
    s.activePolls--;
    s.lastSeen = Date.now();
    state.changed();
  }
}

/** F16: acknowledge (delete) a message. */
export function ack(ctx: RouteContext, sessionId: string, messageId: number): void {
  const s = sessionFor(ctx, sessionId);
  if (!s) return;
  const acked = ctx.state.queue(s.scaleSetId)?.ack(messageId);
  if (!acked) {
    send(ctx.res, 'queue', 404, exception('MessageNotFoundException', `Message ${messageId} was not found.`));
    return;
  }
  ctx.faults.acked(messageId);
  scheduleReannounce(ctx.state, acked, ctx.opts.reannounceMs);
  ctx.state.changed();
  send(ctx.res, 'queue', 204);
}
