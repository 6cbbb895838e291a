import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DaemonStatus, RunnerStateName } from '../../../src/health/status-types.js';

const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
export const FIXTURE_NOW = T0 + 3 * 3_600_000 + 4 * 60_000;

function counts(c: Partial<Record<RunnerStateName, number>>): Record<RunnerStateName, number> {
  return { creating: 0, idle: 0, busy: 0, done: 0, failed: 0, removing: 0, ...c };
}

const counters = {
  jobsStarted: 12,
  jobsCompleted: 11,
  runnersStarted: 14,
  startFailures: 1,
  reconnects: 0,
  adopted: 0,
  cleanedUp: 0,
  undecodableMessages: 0,
  invalidJobMessages: 0,
};

/** Two scale sets, one healthy with runners and jobs, one unhealthy and empty. */
export function daemonStatus(version = '1.2.3'): DaemonStatus {
  return {
    version,
    startedAt: at(0),
    healthy: false,
    ready: true,
    scaleSets: [
      {
        name: 'linux-x64',
        backend: 'docker',
        phase: 'listening',
        healthy: true,
        lastPollAt: at(FIXTURE_NOW - T0 - 1_000),
        minRunners: 1,
        maxRunners: 10,
        desiredRunners: 3,
        runners: [
          { name: 'runner-zz', state: 'idle', tier: 'cold', since: at(FIXTURE_NOW - T0 - 30_000) },
          {
            name: 'runner-aa',
            state: 'busy',
            tier: 'warm',
            since: at(FIXTURE_NOW - T0 - 75_000),
            jobRequestId: 4711,
          },
          { name: 'runner-mm', state: 'busy', since: at(FIXTURE_NOW - T0 - 600_000), jobRequestId: 4712 },
        ],
        runnerCounts: counts({ idle: 1, busy: 2 }),
        pool: { warm: 2, sleeping: 3 },
        recentJobs: [
          {
            requestId: 4701,
            scaleSet: 'linux-x64',
            repository: 'org/api',
            jobDisplayName: 'test',
            result: 'failed',
            state: 'failed',
            completedAt: at(FIXTURE_NOW - T0 - 600_000),
            pickupMs: 4_200,
            executionMs: 190_000,
          },
          {
            requestId: 4702,
            scaleSet: 'linux-x64',
            repository: 'org/web',
            jobDisplayName: 'build',
            result: 'succeeded',
            state: 'succeeded',
            completedAt: at(FIXTURE_NOW - T0 - 120_000),
            pickupMs: 850,
            executionMs: 65_000,
          },
          {
            // Queued and assigned to the scale set, no runner has started it yet.
            requestId: 4703,
            scaleSet: 'linux-x64',
            repository: 'org/api',
            jobDisplayName: 'deploy',
            state: 'queued',
            queuedAt: at(FIXTURE_NOW - T0 - 20_000),
            assignedAt: at(FIXTURE_NOW - T0 - 19_000),
          },
        ],
        counters,
      },
      {
        name: 'gpu',
        backend: 'dedalus',
        phase: 'reconnecting',
        healthy: false,
        reason: 'no successful poll for 120 s (limit 95 s)',
        minRunners: 0,
        maxRunners: 2,
        desiredRunners: 0,
        runners: [],
        runnerCounts: counts({}),
        pool: {},
        recentJobs: [],
        counters,
      },
    ],
  };
}

export interface StatusServer {
  url: string;
  requests: { path: string; authorization?: string }[];
  close(): Promise<void>;
}

/**
 * A stand-in health server: GET /api/status answers `body()` (a new snapshot each time, so --watch has
 * something to refresh), 401 without the token when one is set.
 */
export async function startStatusServer(
  opts: { token?: string; body?: (n: number) => string; stall?: boolean } = {},
): Promise<StatusServer> {
  const requests: StatusServer['requests'] = [];
  let n = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    requests.push({
      path: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    if (opts.stall) return;
    if (req.url !== '/api/status') return void res.writeHead(404).end();
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      return void res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error":"unauthorized"}\n');
    }
    const body = opts.body ? opts.body(n++) : `${JSON.stringify(daemonStatus(`1.2.${n++}`))}\n`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
