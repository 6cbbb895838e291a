import type { RouteContext } from './context.js';
import { bearer, exception, jsonObject, send } from './http-util.js';
import { acquire } from './jobs.js';
import { jobEvent } from './messages.js';
import { notFound } from './scale-set-routes.js';
import type { FakeSession } from './types.js';

/** F8: one active session per scale set. */
export function createSession(ctx: RouteContext, scaleSetId: number): void {
  const { state, faults } = ctx;
  const ss = state.scaleSets.get(scaleSetId);
  if (!ss) {
    send(ctx.res, 'actions', 404, notFound(scaleSetId));
    return;
  }
  state.expireIdleSessions(ctx.opts.sessionIdleTimeoutMs);
  const forced = faults.sessionConflicts > 0;
  if (forced || state.activeSession(scaleSetId)) {
    if (forced) faults.sessionConflicts--;
    send(
      ctx.res,
      'actions',
      409,
      exception(
        'RunnerScaleSetSessionConflictException',
        `The actions runner scaleset ${ss.name} already has an active session.`,
      ),
    );
    return;
  }
  // Clients send `sessionId` (the nil UUID, a Go quirk) or not; either way the service picks the id.
  const body = jsonObject(ctx.body, ctx.res, 'actions');
  if (!body) return;
  const s = state.createSession(scaleSetId, typeof body.ownerName === 'string' ? body.ownerName : '');
  send(ctx.res, 'actions', 200, sessionJson(ctx, s));
}

export function sessionJson(ctx: RouteContext, s: FakeSession): Record<string, unknown> {
  const ss = ctx.state.scaleSets.get(s.scaleSetId)!;
  return {
    sessionId: s.sessionId,
    ownerName: s.ownerName,
    runnerScaleSet: ctx.state.scaleSetJson(ss),
    messageQueueUrl: `${ctx.baseUrl}/queue/${s.sessionId}`,
    messageQueueAccessToken: s.queueToken,
    statistics: ctx.state.statistics(ss.id),
  };
}

/** F9: PATCH refreshes (new queue token), DELETE closes. */
export function session(ctx: RouteContext, scaleSetId: number, sessionId: string): void {
  const { state } = ctx;
  const s = state.sessions.get(sessionId);
  if (!s || s.scaleSetId !== scaleSetId) {
    send(
      ctx.res,
      'actions',
      400,
      exception('RunnerScaleSetSessionExpiredException', `The session identifier ${sessionId} is not valid.`),
    );
    return;
  }
  if (ctx.req.method === 'PATCH') {
    state.rotateQueueToken(s);
    send(ctx.res, 'actions', 200, sessionJson(ctx, s));
    return;
  }
  state.deleteSession(sessionId);
  send(ctx.res, 'actions', 204);
}

/** F10: authorised by the scale set's current queue token, not the admin token (§6.5). */
export function acquireJobs(ctx: RouteContext, scaleSetId: number): void {
  const token = bearer(ctx.req);
  const s = [...ctx.state.sessions.values()].find(
    (x) => x.queueToken === token && x.scaleSetId === scaleSetId,
  );
  if (!s) {
    send(
      ctx.res,
      'actions',
      401,
      exception('UnauthorizedException', 'The message queue token is not valid.'),
    );
    return;
  }
  let ids: unknown;
  try {
    ids = JSON.parse(ctx.body);
  } catch {
    ids = undefined;
  }
  if (!Array.isArray(ids)) {
    send(ctx.res, 'actions', 400, exception('ArgumentException', 'expected a JSON array of request ids'));
    return;
  }
  const acquired = acquire(ctx.state, scaleSetId, ids);
  send(ctx.res, 'actions', 200, { count: acquired.length, value: acquired });
}

/** F11 (legacy, ARC only): the jobs still waiting to be acquired, or 204 when there are none. */
export function acquirableJobs(ctx: RouteContext, scaleSetId: number): void {
  if (!ctx.state.scaleSets.has(scaleSetId)) {
    send(ctx.res, 'actions', 404, notFound(scaleSetId));
    return;
  }
  const jobs = [...ctx.state.jobs.values()].filter(
    (j) => j.scaleSetId === scaleSetId && j.state === 'available',
  );
  if (jobs.length === 0) {
    send(ctx.res, 'actions', 204);
    return;
  }
  const acquireJobUrl = `${ctx.baseUrl}/tenant/123/_apis/runtime/runnerscalesets/${scaleSetId}/acquirejobs`;
  const value = jobs.map((j) => {
    const e = jobEvent(j, 'JobAvailable', { acquireJobUrl });
    const { repositoryName, ownerName, jobWorkflowRef, eventName, requestLabels } = e;
    return {
      acquireJobUrl,
      messageType: 'JobAvailable',
      runnerRequestId: j.requestId,
      repositoryName,
      ownerName,
      jobWorkflowRef,
      eventName,
      requestLabels,
    };
  });
  send(ctx.res, 'actions', 200, { count: value.length, value });
}
