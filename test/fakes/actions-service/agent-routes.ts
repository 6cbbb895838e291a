import type { RouteContext } from './context.js';
import { exception, jsonObject, send, taskException } from './http-util.js';
import { notFound } from './scale-set-routes.js';
import type { FakeRunner } from './types.js';

/** F12: registers a runner and returns its JIT config; names are unique (409 AgentExistsException). */
export function generateJitConfig(ctx: RouteContext, scaleSetId: number): void {
  const body = jsonObject(ctx.body, ctx.res, 'actions');
  if (!body) return;
  if (!ctx.state.scaleSets.has(scaleSetId)) {
    send(ctx.res, 'actions', 404, notFound(scaleSetId));
    return;
  }
  const name = typeof body.name === 'string' ? body.name : '';
  if (name === '' || typeof body.workFolder !== 'string') {
    send(ctx.res, 'actions', 400, exception('ArgumentException', 'name and workFolder are required'));
    return;
  }
  if (ctx.state.runnerByName(name)) {
    send(
      ctx.res,
      'actions',
      409,
      taskException('AgentExistsException', `A runner with name ${name} already exists in the pool.`),
    );
    return;
  }
  const r = ctx.state.registerRunner(scaleSetId, name);
  send(ctx.res, 'actions', 200, {
    runner: agentJson(r),
    encodedJITConfig: ctx.state.jitConfigFor(r),
  });
}

/** The fields clients read (id, name, runnerScaleSetId) plus the status the real agent object has. */
function agentJson(r: FakeRunner): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    runnerScaleSetId: r.scaleSetId,
    status: r.status === 'offline' ? 'offline' : 'online',
    busy: r.status === 'busy',
    ephemeral: true,
  };
}

/** F13: runners by name (all without `agentName`). */
export function agents(ctx: RouteContext): void {
  const name = ctx.query.get('agentName');
  const found = [...ctx.state.runners.values()].filter((r) => name === null || r.name === name);
  send(ctx.res, 'actions', 200, { count: found.length, value: found.map(agentJson) });
}

/** F14: get or remove one runner; a runner mid-job cannot be removed (JobStillRunningException). */
export function agent(ctx: RouteContext, id: number): void {
  const r = ctx.state.runners.get(id);
  if (!r) {
    send(
      ctx.res,
      'actions',
      404,
      taskException('AgentNotFoundException', `No agent found with identifier ${id}.`),
    );
    return;
  }
  if (ctx.req.method === 'GET') {
    send(ctx.res, 'actions', 200, agentJson(r));
    return;
  }
  if (r.status === 'busy') {
    send(
      ctx.res,
      'actions',
      409,
      taskException('JobStillRunningException', `Runner ${r.name} is running job ${r.jobRequestId}.`),
    );
    return;
  }
  ctx.state.deleteRunner(id);
  send(ctx.res, 'actions', 204);
}
