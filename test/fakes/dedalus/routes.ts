import { FakeApiError } from './api-error.js';
import type { CreateExecBody, FakeExecutions } from './executions.js';
import type { FakeRoute } from './faults.js';
import type { FakeMachines } from './machines.js';
import { executionJson, machineJson, page } from './serialize.js';

export interface RouteMatch {
  route: FakeRoute;
  machineId?: string;
  executionId?: string;
}

export function matchRoute(method: string, path: string): RouteMatch | undefined {
  if (path === '/v1/usage/machines/compute' && method === 'GET') return { route: 'usage.compute' };
  if (path === '/v1/machines') {
    if (method === 'POST') return { route: 'machines.create' };
    if (method === 'GET') return { route: 'machines.list' };
    return undefined;
  }
  const m =
    /^\/v1\/machines\/([^/]+)(?:\/(sleep|wake|status\/stream|executions)(?:\/([^/]+)(?:\/(events|output))?)?)?$/.exec(
      path,
    );
  if (!m) return undefined;
  const [, machineId, sub, executionId, leaf] = m;
  // Ids travel as escaped path segments (execution ids are opaque strings).
  const ids = { machineId: decode(machineId), executionId: decode(executionId) };
  if (!sub) {
    const route = (
      { GET: 'machines.retrieve', PATCH: 'machines.update', DELETE: 'machines.delete' } as const
    )[method as 'GET' | 'PATCH' | 'DELETE'];
    return route ? { route, ...ids } : undefined;
  }
  if (sub === 'sleep' && method === 'POST') return { route: 'machines.sleep', ...ids };
  if (sub === 'wake' && method === 'POST') return { route: 'machines.wake', ...ids };
  if (sub === 'status/stream' && method === 'GET') return { route: 'machines.watch', ...ids };
  if (sub !== 'executions') return undefined;
  if (!executionId) {
    if (method === 'POST') return { route: 'executions.create', ...ids };
    if (method === 'GET') return { route: 'executions.list', ...ids };
    return undefined;
  }
  if (leaf === 'events' && method === 'GET') return { route: 'executions.events', ...ids };
  if (leaf === 'output' && method === 'GET') return { route: 'executions.output', ...ids };
  if (!leaf && method === 'GET') return { route: 'executions.retrieve', ...ids };
  if (!leaf && method === 'DELETE') return { route: 'executions.delete', ...ids };
  return undefined;
}

function decode(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export interface RouteContext {
  machines: FakeMachines;
  executions: FakeExecutions;
  maxPageLimit: number;
  wakeRetryAfterMs: number;
  sleepWithRunning: 'freeze' | 'conflict';
  machineQuota: number;
  createStatus: 200 | 202;
}

export interface RouteAnswer {
  status: number;
  body: unknown;
}

/** The API's behaviour per route, over the fake's model. Throws FakeApiError for error answers. */
export function handle(
  ctx: RouteContext,
  r: RouteMatch,
  query: Record<string, string>,
  body: unknown,
): RouteAnswer {
  const { machines, executions } = ctx;
  const wake = ctx.wakeRetryAfterMs;
  const ok = (b: unknown, status = 200): RouteAnswer => ({ status, body: b });
  switch (r.route) {
    case 'machines.create': {
      const spec = parseCreate(body);
      const live = [...machines.all.values()].filter((m) => m.phase !== 'destroyed').length;
      if (live >= ctx.machineQuota) {
        throw new FakeApiError(409, 'QUOTA_EXCEEDED', `plan allows ${ctx.machineQuota} machines`);
      }
      return ok(machineJson(machines.create(spec)), ctx.createStatus);
    }
    case 'machines.list':
      return ok(page(machines.listed().map(machineJson), query, ctx.maxPageLimit));
    case 'machines.retrieve':
      return ok(machineJson(machines.retrieve(r.machineId ?? '')));
    case 'machines.update': {
      const m = machines.get(r.machineId ?? '');
      const b = asObject(body);
      if (typeof b.storage_gib === 'number' && b.storage_gib < m.storageGib) {
        throw new FakeApiError(422, 'STORAGE_SHRINK', 'storage can only grow');
      }
      if (typeof b.vcpu === 'number') m.vcpu = b.vcpu;
      if (typeof b.memory_mib === 'number') m.memoryMib = b.memory_mib;
      if (typeof b.storage_gib === 'number') m.storageGib = b.storage_gib;
      if (b.autosleep !== undefined) m.autosleepSeconds = parseAutosleep(b.autosleep);
      m.revision++;
      return ok(machineJson(m));
    }
    case 'machines.delete': {
      // Idempotent: a machine reported destroyed is deleted again without complaint.
      const m = machines.retrieve(r.machineId ?? '');
      machines.destroy(m);
      return ok(machineJson(m), 202);
    }
    case 'machines.sleep': {
      const m = machines.get(r.machineId ?? '');
      machines.sleep(m, 'sleep requested', ctx.sleepWithRunning);
      return ok(machineJson(m), 202);
    }
    case 'machines.wake': {
      const m = machines.get(r.machineId ?? '');
      machines.wake(m, 'wake requested');
      return ok(machineJson(m), m.phase === 'running' ? 200 : 202);
    }
    case 'executions.create': {
      const m = machines.get(r.machineId ?? '');
      return ok(executionJson(executions.create(m, parseExec(body)), wake), 202);
    }
    case 'executions.list': {
      machines.get(r.machineId ?? '');
      const items = executions.forMachine(r.machineId ?? '').map((e) => executionJson(e, wake));
      return ok(page(items, query, ctx.maxPageLimit));
    }
    case 'executions.retrieve':
      return ok(executionJson(executions.get(r.machineId ?? '', r.executionId ?? ''), wake));
    case 'executions.delete': {
      const e = executions.get(r.machineId ?? '', r.executionId ?? '');
      executions.cancel(e);
      return ok(executionJson(e, wake));
    }
    case 'executions.events': {
      const e = executions.get(r.machineId ?? '', r.executionId ?? '');
      return ok(page(e.events, query, ctx.maxPageLimit));
    }
    case 'executions.output': {
      const e = executions.get(r.machineId ?? '', r.executionId ?? '');
      return ok({
        execution_id: e.id,
        stdout: e.stdout,
        stderr: e.stderr,
        stdout_truncated: false,
        stderr_truncated: false,
      });
    }
    case 'usage.compute': {
      const rows = [...machines.all.values()]
        .filter((m) => !query.machine_id || m.id === query.machine_id)
        .map((m) => {
          const awakeMs = m.awakeMs + (m.awakeSince === undefined ? 0 : Date.now() - m.awakeSince);
          const awake = Math.round(awakeMs / 1000);
          return {
            machine_id: m.id,
            awake_seconds: awake,
            cpu_millicore_seconds: Math.round(awake * m.vcpu * 1000),
            memory_mib_seconds: awake * m.memoryMib,
            bucket_start: new Date(new Date().setUTCHours(0, 0, 0, 0)).toISOString(),
            bucket_end: new Date(new Date().setUTCHours(24, 0, 0, 0)).toISOString(),
          };
        });
      return ok({ granularity: query.granularity ?? 'hour', rows });
    }
    case 'machines.watch':
      throw new FakeApiError(500, 'INTERNAL', 'watch is served as a stream');
  }
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function parseCreate(body: unknown) {
  const b = asObject(body);
  const { vcpu, memory_mib: mem, storage_gib: disk } = b;
  if (typeof vcpu !== 'number' || vcpu <= 0 || !Number.isInteger(vcpu * 4)) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'vcpu must be a positive multiple of 0.25');
  }
  if (typeof mem !== 'number' || !Number.isInteger(mem) || mem <= 0) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'memory_mib must be a positive integer');
  }
  if (typeof disk !== 'number' || !Number.isInteger(disk) || disk <= 0) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'storage_gib must be a positive integer');
  }
  const autosleepSeconds = b.autosleep === undefined ? 300 : parseAutosleep(b.autosleep);
  return { vcpu, memoryMib: mem, storageGib: disk, autosleepSeconds };
}

/** "30s", "15m", "2h", "7d3h4s", "1w3d", raw seconds "1800", or "never" (0 = disabled). */
export function parseAutosleep(v: unknown): number {
  if (v === 'never') return 0;
  if (typeof v !== 'string') throw new FakeApiError(422, 'VALIDATION_ERROR', 'autosleep must be a string');
  if (/^\d+$/.test(v)) return Number(v);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  if (!/^(\d+[smhdw])+$/.test(v)) throw new FakeApiError(422, 'VALIDATION_ERROR', `bad autosleep ${v}`);
  let total = 0;
  for (const [, n, u] of v.matchAll(/(\d+)([smhdw])/g)) total += Number(n) * (units[u ?? 's'] ?? 1);
  return total;
}

function parseExec(body: unknown): CreateExecBody {
  const b = asObject(body);
  if (
    !Array.isArray(b.command) ||
    b.command.length === 0 ||
    !b.command.every((c) => typeof c === 'string') ||
    b.command[0] === ''
  ) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'command must be a non-empty array of strings');
  }
  const env = b.env ?? {};
  if (typeof env !== 'object' || env === null || !Object.values(env).every((v) => typeof v === 'string')) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'env must map names to strings');
  }
  if (b.cwd !== undefined && typeof b.cwd !== 'string')
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'bad cwd');
  if (b.stdin !== undefined && typeof b.stdin !== 'string')
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'bad stdin');
  const t = b.timeout_ms;
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t <= 0)) {
    throw new FakeApiError(422, 'VALIDATION_ERROR', 'timeout_ms must be a positive integer');
  }
  return {
    command: b.command as string[],
    env: env as Record<string, string>,
    ...(b.cwd !== undefined ? { cwd: b.cwd as string } : {}),
    ...(b.stdin !== undefined ? { stdin: b.stdin as string } : {}),
    ...(t !== undefined ? { timeout_ms: t as number } : {}),
  };
}
