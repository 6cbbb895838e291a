import type { Label } from '../../../src/github/types.js';
import type { RouteContext } from './context.js';
import { exception, jsonObject, send } from './http-util.js';
import type { FakeScaleSet } from './types.js';

const list = <T>(value: T[]) => ({ count: value.length, value });
const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** F4: runner groups by name (all of them without `groupName`). */
export function runnerGroups(ctx: RouteContext): void {
  const name = ctx.query.get('groupName');
  const groups = ctx.state.groups.filter((g) => name === null || sameName(g.name, name));
  send(ctx.res, 'actions', 200, list(groups));
}

/** F5 (GET, by group and name) and F6 (POST, create). */
export function scaleSets(ctx: RouteContext): void {
  const { state } = ctx;
  if (ctx.req.method === 'GET') {
    const gid = ctx.query.get('runnerGroupId');
    const name = ctx.query.get('name');
    const found = [...state.scaleSets.values()].filter(
      (s) => (gid === null || s.runnerGroupId === Number(gid)) && (name === null || sameName(s.name, name)),
    );
    send(ctx.res, 'actions', 200, list(found.map((s) => state.scaleSetJson(s))));
    return;
  }
  const body = jsonObject(ctx.body, ctx.res, 'actions');
  if (!body) return;
  if (typeof body.name !== 'string' || body.name === '') {
    send(ctx.res, 'actions', 400, exception('ArgumentException', 'name is required'));
    return;
  }
  const name = body.name;
  const groupId = positive(body.runnerGroupId) ?? 1;
  if (!groupExists(ctx, groupId)) return;
  if ([...state.scaleSets.values()].some((s) => sameName(s.name, name) && s.runnerGroupId === groupId)) {
    // The real exception name is undocumented; what matters is that a duplicate is an error.
    send(ctx.res, 'actions', 409, exception('RunnerScaleSetExistsException', `scale set ${name} exists`));
    return;
  }
  const labels = labelsOf(body.labels);
  const ss = state.createScaleSet({
    name,
    runnerGroupId: groupId,
    labels: state.keptLabels(name, labels.length > 0 ? labels : [{ type: 'System', name }]),
    runnerSetting: settingOf(body),
  });
  send(ctx.res, 'actions', 200, state.scaleSetJson(ss));
}

/** F7: get, merge (absent or zero fields mean unchanged, `createdOn` ignored), delete. */
export function scaleSet(ctx: RouteContext, id: number): void {
  const { state } = ctx;
  const ss = state.scaleSets.get(id);
  if (!ss) {
    send(ctx.res, 'actions', 404, notFound(id));
    return;
  }
  if (ctx.req.method === 'GET') {
    send(ctx.res, 'actions', 200, state.scaleSetJson(ss));
    return;
  }
  if (ctx.req.method === 'DELETE') {
    deleteScaleSet(ctx, ss);
    send(ctx.res, 'actions', 204);
    return;
  }
  const body = jsonObject(ctx.body, ctx.res, 'actions');
  if (!body) return;
  const groupId = positive(body.runnerGroupId);
  if (groupId !== undefined && !groupExists(ctx, groupId)) return;
  if (typeof body.name === 'string' && body.name !== '') ss.name = body.name;
  if (groupId !== undefined) {
    ss.runnerGroupId = groupId;
    ss.runnerGroupName = state.groups.find((g) => g.id === groupId)!.name;
  }
  const labels = labelsOf(body.labels);
  if (labels.length > 0) ss.labels = state.keptLabels(ss.name, labels);
  ss.runnerSetting = { ...ss.runnerSetting, ...settingOf(body) };
  state.changed();
  send(ctx.res, 'actions', 200, state.scaleSetJson(ss));
}

/** Sessions and idle registrations go with the scale set; runners mid-job finish first. */
function deleteScaleSet(ctx: RouteContext, ss: FakeScaleSet): void {
  const { state } = ctx;
  state.scaleSets.delete(ss.id);
  state.queues.delete(ss.id);
  for (const [sid, s] of state.sessions) if (s.scaleSetId === ss.id) state.sessions.delete(sid);
  for (const [rid, r] of state.runners)
    if (r.scaleSetId === ss.id && r.status !== 'busy') state.dropRunner(rid);
  state.changed();
}

export function notFound(id: number): ReturnType<typeof exception> {
  return exception('RunnerScaleSetNotFoundException', `No runner scale set found with identifier ${id}.`);
}

function groupExists(ctx: RouteContext, groupId: number): boolean {
  if (ctx.state.groups.some((g) => g.id === groupId)) return true;
  send(
    ctx.res,
    'actions',
    404,
    exception('RunnerGroupNotFoundException', `No runner group with id ${groupId}.`),
  );
  return false;
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** Labels as sent, with the default type "System" where none is given (§4.5). */
function labelsOf(v: unknown): Label[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((l): l is { type?: unknown; name: string } => typeof l?.name === 'string' && l.name !== '')
    .map((l) => ({ type: typeof l.type === 'string' && l.type !== '' ? l.type : 'System', name: l.name }));
}

/** Go decodes keys case-insensitively, so `runnerSetting` is as good as the wire's `RunnerSetting`. */
function settingOf(body: Record<string, unknown>): Record<string, unknown> {
  const s = body.RunnerSetting ?? body.runnerSetting;
  return s !== null && typeof s === 'object' && !Array.isArray(s)
    ? { ...(s as Record<string, unknown>) }
    : {};
}
