import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DedalusAuthError,
  DedalusConflictError,
  DedalusHttpError,
  DedalusInvalidArgumentError,
  DedalusInvalidResponseError,
  DedalusNotFoundError,
  DedalusRateLimitedError,
  DedalusTransportError,
  DedalusUnavailableError,
  httpError,
} from '../../backends/dedalus/api/errors.js';
import { parseRetryAfter, retryDelay, retryHintMs, shouldRetry } from '../../backends/dedalus/api/retry.js';
import { parseSse } from '../../backends/dedalus/api/sse.js';
import type { DedalusConfig } from '../../backends/dedalus/config.js';
import { estimateCost, usageCost } from '../../backends/dedalus/figures.js';
import { HoldTimer, readSleepRefusal } from '../../backends/dedalus/hold-window.js';
import { autosleepFor, checkConfig, DEFAULT_TIMING, resolveApiKey } from '../../backends/dedalus/options.js';
import { type PoolInput, planPool } from '../../backends/dedalus/pool-plan.js';
import { TierSchedule } from '../../backends/dedalus/schedule.js';
import { runnerExecution, scrubExecution } from '../../backends/dedalus/scripts.js';
import { MachineStateFile } from '../../backends/dedalus/state.js';
import { Secret } from '../../src/secret.js';
import { machineDirs, mapGuestEnvValue, mapGuestText } from '../fakes/dedalus/paths.js';
import { ManualClock } from '../support/manual-clock.js';

const init = {
  method: 'GET',
  path: '/v1/x',
  errorCode: 'E',
  serverMessage: 'm',
  retryable: undefined,
  retryAfterMs: undefined,
  attempts: 1,
};

describe('dedalus errors', () => {
  it('pins one stable code per class and picks the class by status', () => {
    const table: [number, unknown, string][] = [
      [400, DedalusHttpError, 'DEDALUS_HTTP'],
      [401, DedalusAuthError, 'DEDALUS_AUTH'],
      [403, DedalusAuthError, 'DEDALUS_AUTH'],
      [404, DedalusNotFoundError, 'DEDALUS_NOT_FOUND'],
      [409, DedalusConflictError, 'DEDALUS_CONFLICT'],
      [412, DedalusConflictError, 'DEDALUS_CONFLICT'],
      [429, DedalusRateLimitedError, 'DEDALUS_RATE_LIMITED'],
      [500, DedalusHttpError, 'DEDALUS_HTTP'],
      [503, DedalusUnavailableError, 'DEDALUS_UNAVAILABLE'],
    ];
    for (const [status, cls, code] of table) {
      const err = httpError({ ...init, status });
      expect(err).toBeInstanceOf(cls as typeof DedalusHttpError);
      expect(err).toMatchObject({ code, status, errorCode: 'E' });
      expect(err.message).toBe(`request GET /v1/x failed(status=${status}, error_code="E"): m`);
    }
    expect(new DedalusInvalidResponseError('GET', '/p', 200, 'x').code).toBe('DEDALUS_INVALID_RESPONSE');
    expect(new DedalusTransportError('GET', '/p', 3, new Error('reset')).code).toBe('DEDALUS_TRANSPORT');
    expect(new DedalusInvalidArgumentError('x').code).toBe('DEDALUS_INVALID_ARGUMENT');
  });
});

describe('dedalus retry policy', () => {
  it('retries 409/429/5xx, not 4xx or a reused idempotency key, and lets the server veto', () => {
    expect(shouldRetry(503, undefined, {})).toBe(true);
    expect(shouldRetry(429, undefined, {})).toBe(true);
    // A non-retryable answer is final, whatever its status or headers say.
    expect(shouldRetry(429, { retryable: false }, {})).toBe(false);
    expect(shouldRetry(503, { retryable: false }, { 'x-should-retry': 'true' })).toBe(false);
    expect(shouldRetry(409, undefined, {})).toBe(true);
    expect(shouldRetry(409, { retryable: false }, {})).toBe(false);
    expect(shouldRetry(409, { error_code: 'IDEMPOTENCY_KEY_REUSED' }, {})).toBe(false);
    expect(shouldRetry(400, undefined, {})).toBe(false);
    expect(shouldRetry(501, undefined, {})).toBe(false);
    expect(shouldRetry(503, undefined, { 'x-should-retry': 'false' })).toBe(false);
    expect(shouldRetry(400, undefined, { 'x-should-retry': 'true' })).toBe(true);
  });

  it('takes the wait from the body first, then retry-after-ms, then Retry-After (seconds or date)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryHintMs({ retry_after_ms: 250 }, { 'retry-after-ms': '9', 'retry-after': '9' }, now)).toBe(
      250,
    );
    expect(retryHintMs(undefined, { 'retry-after-ms': '12.5', 'retry-after': '9' }, now)).toBe(13);
    expect(retryHintMs(undefined, { 'retry-after': '3' }, now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    const policy = { maxRetries: 3, initialMs: 100, maxMs: 1000, maxHintMs: 5000 };
    expect(retryDelay(0, 99_999, policy)).toBe(5000);
    expect(retryDelay(5, undefined, policy)).toBeLessThanOrEqual(1200);
    expect(retryDelay(0, undefined, policy)).toBeGreaterThanOrEqual(80);
  });
});

describe('dedalus SSE parsing', () => {
  it('splits events across chunk boundaries and CRLF, joins data lines, skips comments', async () => {
    async function* chunks() {
      yield ': hello\r\nevent: sta';
      yield 'tus\r\nid: 7\r\ndata: {"a":\r';
      yield '\ndata: 1}\r\n\r\nevent: status\ndata: x\n\n';
    }
    const out = [];
    for await (const e of parseSse(chunks())) out.push(e);
    expect(out).toEqual([
      { event: 'status', id: '7', data: '{"a":\n1}' },
      { event: 'status', id: '7', data: 'x' },
    ]);
  });
});

describe('dedalus tier schedule', () => {
  const cfg = {
    warm: 0,
    sleeping: 2,
    max: 5,
    quotaVcpu: 0,
    quotaMemoryMib: 0,
    schedule: [
      { days: 'mon-fri', hours: '08:00-18:00', warm: 2, sleeping: 4 },
      { days: 'fri', hours: '22:00-02:00', warm: 1 },
    ],
  };
  const at = (iso: string) => new TierSchedule(cfg).at(new Date(iso));

  it('follows windows in local time, with the base sizes outside them and warm capped first by max', () => {
    expect(at('2026-03-02T09:00:00')).toEqual({ warm: 2, sleeping: 3 }); // Monday; 2 + 4 capped at 5
    expect(at('2026-03-02T18:00:00')).toEqual({ warm: 0, sleeping: 2 });
    expect(at('2026-03-07T09:00:00')).toEqual({ warm: 0, sleeping: 2 }); // Saturday
  });

  it('gives a window that wraps midnight to the day it opened on', () => {
    expect(at('2026-03-06T23:00:00')).toEqual({ warm: 1, sleeping: 2 }); // Friday night
    expect(at('2026-03-07T01:30:00')).toEqual({ warm: 1, sleeping: 2 }); // Saturday small hours
    expect(at('2026-03-08T01:30:00')).toEqual({ warm: 0, sleeping: 2 }); // Sunday small hours
  });

  it('names the window at fault', () => {
    expect(() => new TierSchedule({ ...cfg, schedule: [{ days: 'mo', hours: '8-18' }] })).toThrow(
      /dedalus\.schedule\[0\]/,
    );
  });
});

describe('dedalus pool planning', () => {
  const base: PoolInput = {
    idle: [],
    busy: 0,
    creating: 0,
    draining: 0,
    startsInFlight: 0,
    targets: { warm: 0, sleeping: 0 },
    max: 5,
    recycleAfterJobs: 0,
    recycleAfter: 0,
    now: 1_000_000,
  };
  const m = (id: string, awake: boolean, extra: Partial<PoolInput['idle'][number]> = {}) => ({
    id,
    awake,
    jobs: 0,
    createdAt: 0,
    failed: false,
    ...extra,
  });

  it('creates up to the tiers within max, and not while starts are in flight', () => {
    expect(planPool({ ...base, targets: { warm: 1, sleeping: 2 } }).create).toBe(3);
    expect(planPool({ ...base, targets: { warm: 1, sleeping: 2 }, creating: 2 }).create).toBe(1);
    expect(planPool({ ...base, targets: { warm: 0, sleeping: 9 }, busy: 3 }).create).toBe(2);
    expect(planPool({ ...base, targets: { warm: 0, sleeping: 2 }, startsInFlight: 1 }).create).toBe(0);
  });

  it('keeps as many idle machines awake as the warm tier needs beyond the runners it already holds', () => {
    const idle = [m('a', true), m('b', false), m('c', false, { jobs: 3 })];
    // The hottest cache (most jobs) is woken first.
    expect(planPool({ ...base, idle, targets: { warm: 2, sleeping: 1 } })).toMatchObject({
      wake: ['c'],
      sleep: [],
    });
    const twoAwake = [m('a', true, { jobs: 1 }), m('b', true, { jobs: 4 })];
    expect(planPool({ ...base, idle: twoAwake, targets: { warm: 1, sleeping: 0 } })).toMatchObject({
      sleep: ['a'],
    });
    expect(planPool({ ...base, idle, busy: 1, targets: { warm: 2, sleeping: 1 } })).toMatchObject({
      wake: [],
      sleep: [],
    });
    expect(planPool({ ...base, idle, busy: 2, targets: { warm: 2, sleeping: 1 } })).toMatchObject({
      sleep: ['a'],
    });
  });

  it('keeps extra sleepers but deletes failed and due machines, and trims beyond max', () => {
    const idle = [m('a', false), m('b', false), m('c', false, { failed: true }), m('d', false, { jobs: 5 })];
    const plan = planPool({ ...base, idle, targets: { warm: 0, sleeping: 1 }, recycleAfterJobs: 5 });
    expect(plan.delete).toEqual([
      { id: 'c', reason: 'machine failed' },
      { id: 'd', reason: 'recycle after 5 jobs' },
    ]);
    expect(plan.create).toBe(0);
    const aged = planPool({ ...base, idle: [m('a', false, { createdAt: 0 })], recycleAfter: 1000 });
    expect(aged.delete).toEqual([{ id: 'a', reason: 'recycle after age' }]);
    const over = planPool({ ...base, idle: [m('a', false), m('b', false)], busy: 2, max: 3 });
    expect(over.delete).toEqual([{ id: 'a', reason: 'more machines than dedalus.max' }]);
  });
  it('sleeps awake machines that can sleep, and lets those the hold window keeps awake serve the warm tier', () => {
    const held = (id: string, jobs = 0) => m(id, true, { held: true, jobs });
    // Nothing is asked of a machine that cannot sleep yet: its timer brings it back to the plan.
    expect(planPool({ ...base, idle: [held('a')] })).toMatchObject({ sleep: [], wake: [], create: 0 });
    // Held machines are the warm ones, whatever their caches: the others go to sleep first.
    const mixed = [m('a', true, { jobs: 9 }), held('b'), m('c', true, { jobs: 1 })];
    expect(planPool({ ...base, idle: mixed, targets: { warm: 1, sleeping: 0 } }).sleep.sort()).toEqual([
      'a',
      'c',
    ]);
    expect(planPool({ ...base, idle: mixed, targets: { warm: 2, sleeping: 0 } }).sleep).toEqual(['c']);
    // A held machine counts as awake: no sleeper is woken for the warm tier it already fills.
    expect(
      planPool({ ...base, idle: [held('a'), m('b', false, { jobs: 5 })], targets: { warm: 1, sleeping: 0 } }),
    ).toMatchObject({ wake: [], sleep: [] });
  });
});

describe('dedalus sleep hold window', () => {
  const now = Date.parse('2026-02-27T00:04:20Z');
  const refusal = (status: number, body: Partial<Parameters<typeof httpError>[0]>) =>
    httpError({ ...init, method: 'POST', path: '/v1/machines/dm-x/sleep', status, ...body });

  it('reads a hold-window refusal: the server hint first, then the details, then the published window', () => {
    const hold = { errorCode: 'SLEEP_HOLD_WINDOW_ACTIVE', retryable: true };
    expect(readSleepRefusal(refusal(409, { ...hold, retryAfterMs: 50_000 }), now, 15_000)).toEqual({
      kind: 'later',
      at: now + 50_000,
      window: true,
      code: 'SLEEP_HOLD_WINDOW_ACTIVE',
    });
    const details = { remaining_ms: '40000', next_sleep_eligible_at: '2026-02-27T00:05:10Z' };
    expect(readSleepRefusal(refusal(409, { ...hold, details }), now, 15_000)).toMatchObject({
      at: now + 40_000,
    });
    const eligible = { next_sleep_eligible_at: '2026-02-27T00:05:10Z' };
    expect(readSleepRefusal(refusal(409, { ...hold, details: eligible }), now, 15_000)).toMatchObject({
      at: now + 50_000,
    });
    expect(readSleepRefusal(refusal(409, hold), now, 15_000)).toMatchObject({ at: now + 310_000 });
    // A bogus hint neither spins nor keeps a machine awake for hours.
    expect(readSleepRefusal(refusal(409, { ...hold, retryAfterMs: 0 }), now, 15_000)).toMatchObject({
      at: now + 1_000,
    });
    expect(readSleepRefusal(refusal(409, { ...hold, retryAfterMs: 86_400_000 }), now, 15_000)).toMatchObject({
      at: now + 15 * 60_000,
    });
  });

  it('never plans another try of a non-retryable answer; a 404 is a gone machine; the rest is tried later', () => {
    expect(
      readSleepRefusal(refusal(409, { errorCode: 'SLEEP_HOLD_WINDOW_ACTIVE', retryable: false }), now, 1),
    ).toEqual({ kind: 'final', code: 'SLEEP_HOLD_WINDOW_ACTIVE' });
    expect(readSleepRefusal(refusal(503, { errorCode: 'NEW_CODE', retryable: false }), now, 1)).toEqual({
      kind: 'final',
      code: 'NEW_CODE',
    });
    expect(readSleepRefusal(refusal(422, { errorCode: undefined }), now, 1)).toEqual({
      kind: 'final',
      code: 'HTTP 422',
    });
    expect(readSleepRefusal(refusal(404, {}), now, 1)).toEqual({ kind: 'gone' });
    expect(
      readSleepRefusal(refusal(409, { errorCode: 'STATE_CONFLICT', retryAfterMs: 2_000 }), now, 500),
    ).toEqual({ kind: 'later', at: now + 2_000, window: false, code: 'STATE_CONFLICT' });
    expect(
      readSleepRefusal(new DedalusTransportError('POST', '/p', 1, new Error('reset')), now, 500),
    ).toEqual({
      kind: 'later',
      at: now + 500,
      window: false,
      code: 'DEDALUS_TRANSPORT',
    });
  });

  it('fires once the earliest hold ends, even when the timer wakes early, then for the next; a cleared hold never fires', () => {
    const clock = new ManualClock(now, { earlyBy: 3 });
    const fired: string[][] = [];
    const timer = new HoldTimer(clock, (ids) => fired.push(ids));
    timer.set('a', now + 1_000);
    timer.set('b', now + 5_000);
    timer.set('c', now + 3_000);
    timer.clear('c');
    clock.advance(999);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['a']]);
    clock.advance(3_000);
    expect(fired).toEqual([['a']]);
    clock.advance(1_000);
    expect(fired).toEqual([['a'], ['b']]);
    expect(timer.pending().size).toBe(0);
    timer.set('d', now + 10_000);
    timer.stop();
    timer.set('e', now + 20_000);
    clock.runAll();
    expect(fired).toHaveLength(2);
    expect(clock.pending).toBe(0);
  });
});

describe('dedalus options', () => {
  const cfg = (over: Partial<DedalusConfig> = {}): DedalusConfig => ({
    baseUrl: 'https://dcs.dedaluslabs.ai',
    vcpu: 2,
    memoryMib: 4096,
    storageGib: 20,
    sleeping: 1,
    warm: 0,
    max: 5,
    quotaVcpu: 0,
    quotaMemoryMib: 0,
    schedule: [],
    provisionScript: '',
    runnerDir: '/home/machine/actions-runner',
    jobTimeout: 6 * 3_600_000,
    reuse: true,
    recycleAfterJobs: 0,
    recycleAfter: 0,
    ...over,
  });

  it('names the key at fault', () => {
    expect(() => checkConfig(cfg())).not.toThrow();
    expect(() => checkConfig(cfg({ vcpu: 0.3 }))).toThrow(
      'dedalus.vcpu: expected a positive multiple of 0.25, got 0.3',
    );
    expect(() => checkConfig(cfg({ max: 0 }))).toThrow(/dedalus\.max/);
    expect(() => checkConfig(cfg({ recycleAfterJobs: -1 }))).toThrow(/dedalus\.recycle-after-jobs/);
    expect(() => checkConfig(cfg({ runnerDir: "/home/machine/it's" }))).toThrow(/dedalus\.runner-dir/);
    expect(() => checkConfig(cfg({ runnerDir: 'relative' }))).toThrow(/dedalus\.runner-dir/);
  });

  it('takes the API key from config, else DEDALUS_API_KEY, else refuses', () => {
    expect(
      resolveApiKey(cfg({ apiKey: new Secret('dk-from-config-1') }), { DEDALUS_API_KEY: 'dk-env' }).reveal(),
    ).toBe('dk-from-config-1');
    expect(resolveApiKey(cfg(), { DEDALUS_API_KEY: 'dk-from-env-12345' }).reveal()).toBe('dk-from-env-12345');
    expect(() => resolveApiKey(cfg(), {})).toThrow(/DEDALUS_API_KEY/);
  });

  it('sets autosleep beyond the longest execution we start', () => {
    expect(Number(autosleepFor(cfg(), DEFAULT_TIMING))).toBe(6 * 3600 + 600);
    expect(Number(autosleepFor(cfg({ jobTimeout: 60_000 }), DEFAULT_TIMING))).toBe(30 * 60 + 600);
  });
});

describe('dedalus scripts', () => {
  it('keeps secrets out of argv and caches out of the scrub', () => {
    const run = runnerExecution('/home/machine/actions-runner', 'SECRET-JIT-VALUE', 1000);
    expect(JSON.stringify(run.command)).not.toContain('SECRET-JIT-VALUE');
    expect(run.env?.ACTIONS_RUNNER_INPUT_JITCONFIG).toBe('SECRET-JIT-VALUE');
    const scrub = scrubExecution('/home/machine/actions-runner', 1000).command.join(' ');
    expect(scrub).toContain("rm -rf '/home/machine/actions-runner/_work'");
    expect(scrub).not.toMatch(/rm -rf '\/home\/machine'( |$)/);
    expect(scrub).not.toContain('.cache');
  });
});

describe('dedalus state file', () => {
  it("round-trips records, keeps another owner's entries untouched, and writes atomically", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dedalus-state-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const owner = { instanceId: 'i-1', scaleSet: 'Set A' };
    const path = MachineStateFile.fileFor(dir, owner);
    const foreign = {
      machineId: 'dm-theirs',
      owner: { instanceId: 'i-2', scaleSet: 'Set A' },
      provisioned: true,
      jobs: 0,
      createdAt: 'x',
    };
    writeFileSync(path, JSON.stringify({ version: 1, machines: [foreign] }));
    const file = await MachineStateFile.load(dir, owner);
    expect(file.records()).toEqual([]);
    await file.put({ machineId: 'dm-mine', owner, provisioned: false, jobs: 0, createdAt: 'y' });
    await file.addExited({
      name: 'r1',
      runnerId: 1,
      startedAt: 'a',
      machineId: 'dm-mine',
      exitedAt: 'b',
      exitCode: 0,
    });
    const raw = JSON.parse(readFileSync(path, 'utf8'));
    expect(raw.machines.map((m: { machineId: string }) => m.machineId).sort()).toEqual([
      'dm-mine',
      'dm-theirs',
    ]);
    const again = await MachineStateFile.load(dir, owner);
    expect(again.records().map((r) => r.machineId)).toEqual(['dm-mine']);
    expect(again.exitedRunners().map((r) => r.name)).toEqual(['r1']);
    expect(path).toMatch(/dedalus-set-a-i-1\.json$/);
  });
});

describe('dedalus figures and events', () => {
  it('prices awake seconds and usage rows at list prices', () => {
    expect(estimateCost(3600, 1, 1024)).toBeCloseTo(0.04536 + 0.01458, 6);
    expect(
      usageCost([
        {
          awake_seconds: 3600,
          cpu_millicore_seconds: 3_600_000,
          memory_mib_seconds: 3_686_400,
        },
      ]),
    ).toEqual({
      awakeSeconds: 3600,
      costUsd: 0.05994,
      rows: 1,
    });
  });
});

describe('fake dedalus path mapping', () => {
  it('maps guest paths in commands once, and env values only when they are paths', () => {
    const dirs = machineDirs('/tmp/root', 'dm-x');
    expect(mapGuestText(dirs, "cd /home/machine/w && cat '/tmp/a' > /root/b; echo /home/machinery")).toBe(
      "cd /tmp/root/dm-x/home/machine/w && cat '/tmp/root/dm-x/rootfs/tmp/a' > /root/b; echo /home/machinery",
    );
    expect(mapGuestEnvValue(dirs, '/home/machine')).toBe('/tmp/root/dm-x/home/machine');
    expect(mapGuestEnvValue(dirs, 'abc+/tmp/xyz=')).toBe('abc+/tmp/xyz=');
  });
});
