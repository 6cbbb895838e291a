import * as agents from './agent-routes.js';
import type { RouteContext } from './context.js';
import * as github from './github-routes.js';
import type { Api } from './http-util.js';
import { exception, send } from './http-util.js';
import { ack, poll } from './queue-routes.js';
import { fakeRunner } from './runner-routes.js';
import * as scaleSets from './scale-set-routes.js';
import * as sessions from './session-routes.js';
import type { FakeRoute, RunnerRoute } from './types.js';

type Handler = (ctx: RouteContext, m: RegExpExecArray) => void | Promise<void>;

export interface Route {
  name: FakeRoute | RunnerRoute;
  methods: string[];
  re: RegExp;
  api: Api;
  handle: Handler;
}

/** GitHub API routes answer with and without the GHES prefix (spec §1.3). */
const GH = '(?:/api/v3)?';
const T = '/tenant/123/_apis';
const SS = `${T}/runtime/runnerscalesets`;
const num = (m: RegExpExecArray, i: number) => Number(m[i]);
const str = (m: RegExpExecArray, i: number) => decodeURIComponent(m[i] ?? '');

function route(name: Route['name'], methods: string[], api: Api, re: string, handle: Handler): Route {
  return { name, methods, api, re: new RegExp(`^${re}$`), handle };
}

/** Spec §11.5, F1–F16, plus the fake runner protocol. */
const ROUTES: Route[] = [
  route('access-token', ['POST'], 'github', `${GH}/app/installations/(\\d+)/access_tokens`, (c, m) =>
    github.accessToken(c, num(m, 1)),
  ),
  route(
    'registration-token',
    ['POST'],
    'github',
    `${GH}/(orgs/[^/]+|repos/[^/]+/[^/]+|enterprises/[^/]+)/actions/runners/registration-token`,
    (c, m) => github.registrationToken(c, str(m, 1)),
  ),
  route('runner-registration', ['POST'], 'github', `${GH}/actions/runner-registration`, (c) =>
    github.runnerRegistration(c),
  ),
  route('runner-groups', ['GET'], 'actions', `${T}/runtime/runnergroups/?`, (c) => scaleSets.runnerGroups(c)),
  route('scale-sets', ['GET', 'POST'], 'actions', SS, (c) => scaleSets.scaleSets(c)),
  route('scale-set', ['GET', 'PATCH', 'DELETE'], 'actions', `${SS}/(\\d+)`, (c, m) =>
    scaleSets.scaleSet(c, num(m, 1)),
  ),
  route('sessions', ['POST'], 'actions', `${SS}/(\\d+)/sessions`, (c, m) =>
    sessions.createSession(c, num(m, 1)),
  ),
  route('session', ['PATCH', 'DELETE'], 'actions', `${SS}/(\\d+)/sessions/([^/]+)`, (c, m) =>
    sessions.session(c, num(m, 1), str(m, 2)),
  ),
  route('acquire-jobs', ['POST'], 'actions', `${SS}/(\\d+)/acquirejobs`, (c, m) =>
    sessions.acquireJobs(c, num(m, 1)),
  ),
  route('acquirable-jobs', ['GET'], 'actions', `${SS}/(\\d+)/acquirablejobs`, (c, m) =>
    sessions.acquirableJobs(c, num(m, 1)),
  ),
  route('jit-config', ['POST'], 'actions', `${SS}/(\\d+)/generatejitconfig`, (c, m) =>
    agents.generateJitConfig(c, num(m, 1)),
  ),
  route('agents', ['GET'], 'actions', `${T}/distributedtask/pools/0/agents`, (c) => agents.agents(c)),
  route('agent', ['GET', 'DELETE'], 'actions', `${T}/distributedtask/pools/0/agents/(\\d+)`, (c, m) =>
    agents.agent(c, num(m, 1)),
  ),
  route('poll', ['GET'], 'queue', '/queue/([^/]+)', (c, m) => poll(c, str(m, 1))),
  route('ack', ['DELETE'], 'queue', '/queue/([^/]+)/(\\d+)', (c, m) => ack(c, str(m, 1), num(m, 2))),
  route(
    'fake-runner',
    ['POST'],
    'runner',
    '/_fake/runners/(\\d+)/([0-9a-f]+)/(claim|lease|complete)',
    (c, m) => fakeRunner(c, num(m, 1), str(m, 2), str(m, 3)),
  ),
];

export function classify(path: string): { route: Route; match: RegExpExecArray } | undefined {
  for (const route of ROUTES) {
    const match = route.re.exec(path);
    if (match) return { route, match };
  }
  return undefined;
}

/** The checks every Actions route shares (spec §11.5): method, api-version, admin token; then the handler. */
export async function dispatch(ctx: RouteContext, route: Route, match: RegExpExecArray): Promise<void> {
  if (!route.methods.includes(ctx.req.method ?? '')) {
    send(ctx.res, route.api, 405, exception('MethodNotAllowedException', `${ctx.req.method} ${ctx.path}`));
    return;
  }
  if (route.api === 'actions') {
    if (ctx.query.get('api-version') !== '6.0-preview') {
      send(
        ctx.res,
        'actions',
        400,
        exception('VssInvalidApiVersionException', 'api-version=6.0-preview is required'),
      );
      return;
    }
    // acquirejobs is authorised by the queue token instead (§6.5), checked by its handler.
    if (route.name !== 'acquire-jobs' && !github.adminTokenValid(ctx)) {
      send(ctx.res, 'actions', 401, exception('UnauthorizedException', 'The admin token is not valid.'));
      return;
    }
  }
  await route.handle(ctx, match);
}
