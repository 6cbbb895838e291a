import type { RouteContext } from './context.js';
import { bearer, exception, send } from './http-util.js';

const list = <T>(value: T[]) => ({ count: value.length, value });

function json(ctx: RouteContext): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(ctx.body || 'null') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    send(ctx.res, 'actions', 400, exception('ArgumentException', 'request body is not JSON'));
    return undefined;
  }
}

/** F4 */
export function runnerGroups(ctx: RouteContext): void {
  const name = ctx.query.get('groupName') ?? '';
  send(
    ctx.res,
    'actions',
    200,
    list(ctx.state.groups.filter((g) => g.name.toLowerCase() === name.toLowerCase())),
  );
}

/** F5 / F6 */
export function scaleSets(ctx: RouteContext): void {
  const { state } = ctx;
  if (ctx.req.method === 'GET') {
    const gid = Number(ctx.query.get('runnerGroupId'));
    const name = ctx.query.get('name');
    const found = [...state.scaleSets.values()].filter((s) => s.runnerGroupId === gid && s.name === name);
    send(ctx.res, 'actions', 200, list(found.map((s) => state.scaleSetJson(s))));
    return;
  }
  const body = json(ctx);
  if (!body) return;
  if (!body.name) {
    send(ctx.res, 'actions', 400, exception('ArgumentException', 'name is required'));
    return;
  }
  const dup = [...state.scaleSets.values()].some(
    (s) => s.name === body.name && s.runnerGroupId === Number(body.runnerGroupId ?? 1),
  );
  if (dup) {
    send(
      ctx.res,
      'actions',
      409,
      exception('RunnerScaleSetExistsException', `scale set ${String(body.name)} exists`),
    );
    return;
  }
  send(ctx.res, 'actions', 200, state.scaleSetJson(state.createScaleSet(body)));
}

/** F7 */
export function scaleSet(ctx: RouteContext, id: number): void {
  const ss = ctx.state.scaleSets.get(id);
  if (!ss) {
    send(
      ctx.res,
      'actions',
      404,
      exception('RunnerScaleSetNotFoundException', `No runner scale set found with identifier ${id}.`),
    );
    return;
  }
  if (ctx.req.method === 'GET') send(ctx.res, 'actions', 200, ctx.state.scaleSetJson(ss));
  else if (ctx.req.method === 'PATCH') {
    const body = json(ctx);
    if (body) send(ctx.res, 'actions', 200, ctx.state.scaleSetJson(ctx.state.updateScaleSet(ss, body)));
  } else if (ctx.req.method === 'DELETE') {
    ctx.state.deleteScaleSet(id);
    send(ctx.res, 'actions', 204);
  } else send(ctx.res, 'actions', 405, exception('MethodNotAllowed', String(ctx.req.method)));
}

/** F8 */
export function createSession(ctx: RouteContext, scaleSetId: number): void {
  const { state, faults } = ctx;
  const ss = state.scaleSets.get(scaleSetId);
  if (!ss) {
    send(
      ctx.res,
      'actions',
      404,
      exception(
        'RunnerScaleSetNotFoundException',
        `No runner scale set found with identifier ${scaleSetId}.`,
      ),
    );
    return;
  }
  state.expireIdleSessions(ctx.opts.sessionIdleTimeoutMs);
  if (faults.sessionConflicts > 0 || state.activeSession(scaleSetId)) {
    if (faults.sessionConflicts > 0) faults.sessionConflicts--;
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
  const body = json(ctx);
  if (!body) return;
  const s = state.createSession(scaleSetId, String(body.ownerName ?? ''));
  send(ctx.res, 'actions', 200, sessionJson(ctx, s.sessionId));
}

export function sessionJson(ctx: RouteContext, sessionId: string): Record<string, unknown> {
  const s = ctx.state.sessions.get(sessionId)!;
  const ss = ctx.state.scaleSets.get(s.scaleSetId)!;
  return {
    sessionId: s.sessionId,
    ownerName: s.ownerName,
    runnerScaleSet: { id: ss.id, name: ss.name },
    messageQueueUrl: `${ctx.baseUrl}/queue/${s.sessionId}`,
    messageQueueAccessToken: s.queueToken,
    statistics: ctx.state.statistics(ss.id),
  };
}

/** F9 */
export function session(ctx: RouteContext, scaleSetId: number, sessionId: string): void {
  const s = ctx.state.sessions.get(sessionId);
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
    s.queueToken = `${s.queueToken.slice(0, 3)}${Math.random().toString(36).slice(2)}${Date.now()}`;
    s.lastSeen = Date.now();
    ctx.state.changed();
    send(ctx.res, 'actions', 200, sessionJson(ctx, sessionId));
  } else {
    ctx.state.sessions.delete(sessionId);
    ctx.state.changed();
    send(ctx.res, 'actions', 204);
  }
}

/** F10: queue token, not admin. */
export function acquireJobs(ctx: RouteContext, scaleSetId: number): void {
  const token = bearer(ctx.req);
  const s = [...ctx.state.sessions.values()].find(
    (x) => x.queueToken === token && x.scaleSetId === scaleSetId,
  );
  if (!s) {
    send(ctx.res, 'actions', 401, exception('UnauthorizedException', 'queue token is not valid'));
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
  const acquired: number[] = [];
  for (const id of ids) {
    const job = ctx.state.jobs.get(Number(id));
    if (job && job.scaleSetId === scaleSetId && job.state === 'available') {
      ctx.state.setJobState(job, 'acquired');
      acquired.push(job.requestId);
    }
  }
  ctx.state.assignAcquired(scaleSetId);
  ctx.state.changed();
  send(ctx.res, 'actions', 200, list(acquired));
}

/** F12 */
export function generateJitConfig(ctx: RouteContext, scaleSetId: number): void {
  const body = json(ctx);
  if (!body) return;
  if (!ctx.state.scaleSets.has(scaleSetId)) {
    send(
      ctx.res,
      'actions',
      404,
      exception('RunnerScaleSetNotFoundException', `No runner scale set ${scaleSetId}`),
    );
    return;
  }
  const name = String(body.name ?? '');
  if (!name || !('workFolder' in body)) {
    send(ctx.res, 'actions', 400, exception('ArgumentException', 'name and workFolder are required'));
    return;
  }
  if (ctx.state.runnerByName(name)) {
    send(ctx.res, 'actions', 409, exception('AgentExistsException', `Agent ${name} already exists.`));
    return;
  }
  const r = ctx.state.registerRunner(scaleSetId, name);
  send(ctx.res, 'actions', 200, {
    runner: { id: r.id, name: r.name, runnerScaleSetId: scaleSetId },
    encodedJITConfig: ctx.state.jitConfigFor(r),
  });
}

const agentJson = (r: { id: number; name: string; scaleSetId: number; status: string }) => ({
  id: r.id,
  name: r.name,
  runnerScaleSetId: r.scaleSetId,
  status: r.status === 'offline' ? 'offline' : 'online',
  busy: r.status === 'busy',
});

/** F13 */
export function agents(ctx: RouteContext): void {
  const name = ctx.query.get('agentName');
  const all = [...ctx.state.runners.values()].filter((r) => name === null || r.name === name);
  send(ctx.res, 'actions', 200, list(all.map(agentJson)));
}

/** F14 */
export function agent(ctx: RouteContext, id: number): void {
  const r = ctx.state.runners.get(id);
  if (!r) {
    send(
      ctx.res,
      'actions',
      404,
      exception('AgentNotFoundException', `No agent found with identifier ${id}.`),
    );
    return;
  }
  if (ctx.req.method === 'GET') {
    send(ctx.res, 'actions', 200, agentJson(r));
    return;
  }
  if (r.status === 'busy') {
    send(ctx.res, 'actions', 409, exception('JobStillRunningException', `Agent ${r.name} is running a job.`));
    return;
  }
  ctx.state.deleteRunner(id);
  send(ctx.res, 'actions', 204);
}
