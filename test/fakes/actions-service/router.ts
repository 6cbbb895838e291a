import * as actions from './actions-routes.js';
import type { RouteContext } from './context.js';
import * as github from './github-routes.js';
import { exception, send } from './http-util.js';
import { ack, poll } from './queue-routes.js';
import { fakeRunner } from './runner-routes.js';
import type { FakeRoute } from './types.js';

type Handler = (ctx: RouteContext, m: RegExpExecArray) => void | Promise<void>;
interface Route {
  name: FakeRoute;
  methods: string[];
  re: RegExp;
  api: 'github' | 'actions' | 'queue' | 'runner';
  handle: Handler;
}

const GH = '(?:/api/v3)?';
const T = '/tenant/123/_apis';
const num = (m: RegExpExecArray, i: number) => Number(m[i]);

const ROUTES: Route[] = [
  {
    name: 'access-token',
    methods: ['POST'],
    api: 'github',
    re: new RegExp(`^${GH}/app/installations/(\\d+)/access_tokens$`),
    handle: (c, m) => github.accessToken(c, num(m, 1)),
  },
  {
    name: 'registration-token',
    methods: ['POST'],
    api: 'github',
    re: new RegExp(
      `^${GH}/(?:orgs/[^/]+|repos/[^/]+/[^/]+|enterprises/[^/]+)/actions/runners/registration-token$`,
    ),
    handle: (c) => github.registrationToken(c),
  },
  {
    name: 'runner-registration',
    methods: ['POST'],
    api: 'github',
    re: new RegExp(`^${GH}/actions/runner-registration$`),
    handle: (c) => github.runnerRegistration(c),
  },
  {
    name: 'runner-groups',
    methods: ['GET'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnergroups/?$`),
    handle: (c) => actions.runnerGroups(c),
  },
  {
    name: 'scale-sets',
    methods: ['GET', 'POST'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnerscalesets$`),
    handle: (c) => actions.scaleSets(c),
  },
  {
    name: 'scale-set',
    methods: ['GET', 'PATCH', 'DELETE'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnerscalesets/(\\d+)$`),
    handle: (c, m) => actions.scaleSet(c, num(m, 1)),
  },
  {
    name: 'sessions',
    methods: ['POST'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnerscalesets/(\\d+)/sessions$`),
    handle: (c, m) => actions.createSession(c, num(m, 1)),
  },
  {
    name: 'session',
    methods: ['PATCH', 'DELETE'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnerscalesets/(\\d+)/sessions/([^/]+)$`),
    handle: (c, m) => actions.session(c, num(m, 1), m[2]!),
  },
  {
    name: 'acquire-jobs',
    methods: ['POST'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnerscalesets/(\\d+)/acquirejobs$`),
    handle: (c, m) => actions.acquireJobs(c, num(m, 1)),
  },
  {
    name: 'jit-config',
    methods: ['POST'],
    api: 'actions',
    re: new RegExp(`^${T}/runtime/runnerscalesets/(\\d+)/generatejitconfig$`),
    handle: (c, m) => actions.generateJitConfig(c, num(m, 1)),
  },
  {
    name: 'agents',
    methods: ['GET'],
    api: 'actions',
    re: new RegExp(`^${T}/distributedtask/pools/0/agents$`),
    handle: (c) => actions.agents(c),
  },
  {
    name: 'agent',
    methods: ['GET', 'DELETE'],
    api: 'actions',
    re: new RegExp(`^${T}/distributedtask/pools/0/agents/(\\d+)$`),
    handle: (c, m) => actions.agent(c, num(m, 1)),
  },
  {
    name: 'poll',
    methods: ['GET'],
    api: 'queue',
    re: /^\/queue\/([^/]+)$/,
    handle: (c, m) => poll(c, m[1]!),
  },
  {
    name: 'ack',
    methods: ['DELETE'],
    api: 'queue',
    re: /^\/queue\/([^/]+)\/(\d+)$/,
    handle: (c, m) => ack(c, m[1]!, num(m, 2)),
  },
  {
    name: 'fake-runner',
    methods: ['POST'],
    api: 'runner',
    re: /^\/_fake\/runners\/(\d+)\/([0-9a-f]+)\/(claim|lease|complete)$/,
    handle: (c, m) => fakeRunner(c, num(m, 1), m[2]!, m[3]!),
  },
];

export function classify(path: string): { route: Route; match: RegExpExecArray } | undefined {
  for (const route of ROUTES) {
    const match = route.re.exec(path);
    if (match) return { route, match };
  }
  return undefined;
}

/** Auth and api-version rules shared by every Actions route (spec §11.5), then the handler. */
export async function dispatch(ctx: RouteContext, route: Route, match: RegExpExecArray): Promise<void> {
  if (!route.methods.includes(ctx.req.method ?? '')) {
    send(ctx.res, route.api, 405, exception('MethodNotAllowed', `${ctx.req.method} ${ctx.path}`));
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
    if (route.name !== 'acquire-jobs' && !github.adminTokenValid(ctx)) {
      send(ctx.res, 'actions', 401, exception('UnauthorizedException', 'admin token is not valid'));
      return;
    }
  }
  await route.handle(ctx, match);
}
