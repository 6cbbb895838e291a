import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DedalusBackend } from '../../backends/dedalus/index.js';
import { BackendCapacityError, type RunnerSpec } from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import type { Secret } from '../../src/secret.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { type DedalusFixture, dedalusFixture, RUNNER_DIR } from '../fakes/dedalus/backend-fixture.js';
import { exitOf } from './conformance.js';

const sig = () => AbortSignal.timeout(20_000);
let nextId = 1;

function spec(fx: DedalusFixture, jitConfig: Secret): RunnerSpec {
  return { name: makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId), runnerId: nextId++, jitConfig };
}

/** Starts a runner that runs `script` as its job and waits for its exit event. */
async function runJob(fx: DedalusFixture, b: DedalusBackend, script: string) {
  const s = spec(fx, fx.jit(script));
  const exited = exitOf(b.events(sig()), s.name);
  const handle = await b.start(s, sig());
  return { handle, exit: await exited, spec: s };
}

const asleep = (fx: DedalusFixture, id: string) =>
  fx.fake.waitFor(() => fx.fake.machine(id)?.phase === 'sleeping', { timeout: 5000, what: `${id} asleep` });

describe('dedalus backend: jobs on pooled machines', () => {
  it('provisions on the first job, then reuses the same machine with its caches but a clean workspace', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend();
    await b.prepare(sig());
    const first = await runJob(
      fx,
      b,
      'mkdir -p "$HOME/.cache/tool" && echo hot > "$HOME/.cache/tool/blob" && echo junk > leftover.txt',
    );
    expect(first.handle.tier).toBe('cold');
    expect(first.exit.exitCode).toBe(0);
    const id = first.handle.resourceId;
    const t0 = Date.now();
    await asleep(fx, id);
    expect(Date.now() - t0).toBeLessThan(3000);
    const m = fx.fake.machine(id);
    expect(existsSync(fx.home(m, 'actions-runner/_work/leftover.txt'))).toBe(false);

    const second = await runJob(
      fx,
      b,
      'test -f "$HOME/.cache/tool/blob" || exit 10; test ! -e leftover.txt || exit 11; exit 0',
    );
    expect(second.handle).toMatchObject({ resourceId: id, tier: 'woken' });
    expect(second.exit.exitCode).toBe(0);
    expect(fx.provisionRuns(m)).toBe(1);
    expect(fx.fake.machines()).toHaveLength(1);
    const figures = await fx.fake.waitFor(
      () => b.metrics().lastJobFigures.length === 2 && b.metrics().lastJobFigures,
      {
        what: 'figures of both jobs',
      },
    );
    expect(figures.map((f) => f.tier)).toEqual(['cold', 'woken']);
    expect(figures[1]).toMatchObject({
      machineId: id,
      wakeMs: expect.any(Number),
      onlineMs: expect.any(Number),
    });
    expect(figures[1]?.awakeSeconds).toBeGreaterThanOrEqual(0);
    expect(figures[1]?.estimatedCostUsd).toBeGreaterThanOrEqual(0);
    // The usage API's view arrives in the background.
    const usage = await fx.fake.waitFor(() => b.metrics().lastJobFigures[1]?.usage, {
      what: 'usage figures',
    });
    expect(usage).toMatchObject({ rows: 1, awakeSeconds: expect.any(Number), costUsd: expect.any(Number) });
  });

  it('starts run.sh as an execution with the JIT config in env only, HOME under /home/machine and timeout_ms = job-timeout', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({ jobTimeout: 45_000 });
    await runJob(fx, b, 'exit 0');
    const jit = fx.jit('exit 0');
    const s = spec(fx, jit);
    const exited = exitOf(b.events(sig()), s.name);
    const handle = await b.start(s, sig());
    await exited;
    const runners = fx.fake
      .executions(handle.resourceId)
      .filter((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env);
    expect(runners).toHaveLength(2);
    for (const e of runners) {
      expect(e.command.join(' ')).not.toContain(e.env.ACTIONS_RUNNER_INPUT_JITCONFIG);
      expect(e.command.join(' ')).toContain(`${RUNNER_DIR}/run.sh`);
      expect(e.env.HOME).toBe('/home/machine');
      expect(e.timeoutMs).toBe(45_000);
    }
    expect(runners[1]?.env.ACTIONS_RUNNER_INPUT_JITCONFIG).toBe(jit.reveal());
    // Autosleep outlasts the job timeout, so it can never freeze a job.
    expect(fx.fake.machine(handle.resourceId)?.autosleepSeconds).toBeGreaterThan(45);
  });

  it('with reuse = false deletes the machine after each job and provisions a fresh one', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({ reuse: false });
    const one = await runJob(fx, b, 'exit 0');
    await fx.fake.waitFor(() => fx.fake.machine(one.handle.resourceId)?.phase === 'destroyed', {
      what: 'deleted',
    });
    const two = await runJob(fx, b, 'exit 0');
    expect(two.handle.tier).toBe('cold');
    expect(two.handle.resourceId).not.toBe(one.handle.resourceId);
    await fx.fake.waitFor(() => fx.fake.machine(two.handle.resourceId)?.phase === 'destroyed', {
      what: 'deleted',
    });
    await pollUntil(async () => (await b.ownedMachines()).length === 0, {
      timeout: 5000,
      what: 'state file empty',
    });
    expect(fx.fake.machines().map((m) => m.phase)).toEqual(['destroyed', 'destroyed']);
  });

  it('recycles a machine after recycle-after-jobs and replaces it in the pool', async () => {
    const fx = await dedalusFixture();
    // max 1: while the pooled machine runs job 1, the pool cannot make a second one to keep a machine
    // asleep, which job 2 could then take instead (an awake fresh machine beats a sleeping one).
    const b = fx.backend({ recycleAfterJobs: 2, sleeping: 1, max: 1 });
    await b.prepare(sig());
    const pooled = await fx.fake.waitFor(() => fx.fake.machines().find((m) => m.phase === 'sleeping'), {
      what: 'pool',
    });
    await runJob(fx, b, 'exit 0');
    const again = await runJob(fx, b, 'exit 0');
    expect(again.handle.resourceId).toBe(pooled.id);
    await fx.fake.waitFor(() => fx.fake.machine(pooled.id)?.phase === 'destroyed', { what: 'recycled' });
    const fresh = await fx.fake.waitFor(
      () => fx.fake.machines().find((m) => m.id !== pooled.id && m.phase === 'sleeping'),
      { what: 'replacement asleep' },
    );
    expect(fx.provisionRuns(fresh)).toBe(1);
    expect(b.metrics().counters.recycled).toBe(1);
  });

  it('a burst beyond the pool creates machines up to max, then reports capacity', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({ sleeping: 1, max: 3 });
    await b.prepare(sig());
    await fx.fake.waitFor(() => fx.fake.machines().find((m) => m.phase === 'sleeping'), { what: 'pool' });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map(() => b.start(spec(fx, fx.jit('sleep 30')), sig())),
    );
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok.map((h) => h.tier).sort()).toEqual(['cold', 'cold', 'woken']);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toBeInstanceOf(BackendCapacityError);
    expect(fx.fake.machines()).toHaveLength(3);
    expect(new Set(ok.map((h) => h.resourceId)).size).toBe(3);
    expect(b.poolStatus()).toMatchObject({ busy: 3, total: 3 });
  });

  it('runs the provision script once per new machine and fails a start cleanly when it fails', async () => {
    const fx = await dedalusFixture();
    const bad = join(fx.root, 'bad-provision.sh');
    writeFileSync(bad, '#!/bin/sh\necho "apt exploded" >&2\nexit 7\n');
    const b = fx.backend({ provisionScript: bad });
    const err = await b.start(spec(fx, fx.jit('exit 0')), sig()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEDALUS_PROVISION_FAILED',
      message: expect.stringContaining('apt exploded'),
    });
    const made = fx.fake.machines();
    expect(made).toHaveLength(1);
    await fx.fake.waitFor(() => made[0]?.phase === 'destroyed', { what: 'half-provisioned machine deleted' });
    expect(await b.listOwned(sig())).toEqual([]);
    expect(await b.ownedMachines()).toEqual([]);
  });

  it('fails a start when the provision script did not install run.sh, leaving the machine asleep in the pool', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({ provisionScript: '' });
    const err = await b.start(spec(fx, fx.jit('exit 0')), sig()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DEDALUS_RUNNER_MISSING' });
    expect(await b.listOwned(sig())).toEqual([]);
    const [m] = fx.fake.machines();
    await asleep(fx, m?.id ?? '');
    expect(existsSync(fx.home(m, 'actions-runner/_work'))).toBe(true);
  });

  it('remove() cancels a running runner, puts its machine to sleep, and is idempotent', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend();
    const s = spec(fx, fx.jit('sleep 60'));
    const h = await b.start(s, sig());
    expect((await b.listOwned(sig())).map((r) => [r.name, r.state])).toEqual([[s.name, 'running']]);
    await b.remove(s.name, sig());
    await b.remove(s.name, sig());
    const runner = fx.fake.executions(h.resourceId).find((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env);
    expect(runner?.status).toBe('cancelled');
    expect(runner?.child).toBeUndefined();
    expect(fx.fake.machine(h.resourceId)?.phase).toBe('sleeping');
    expect(await b.listOwned(sig())).toEqual([]);
  });

  it('keeps the pool tiers: warm machines awake, sleeping ones asleep, warmRunners follows warm', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({ warm: 1, sleeping: 2, max: 4 });
    expect(b.capabilities).toMatchObject({ maxRunners: 4 });
    expect(b.capabilities.warmRunners?.()).toBe(1);
    await b.prepare(sig());
    await fx.fake.waitFor(
      () => {
        const live = fx.fake.machines();
        return (
          live.filter((m) => m.phase === 'running').length === 1 &&
          live.filter((m) => m.phase === 'sleeping').length === 2 &&
          live.length === 3
        );
      },
      { what: '1 warm + 2 sleeping', timeout: 15_000 },
    );
    expect(b.poolStatus()).toMatchObject({ warm: 1, sleeping: 2, busy: 0 });
    const h = await b.start(spec(fx, fx.jit('sleep 30')), sig());
    expect(h.tier).toBe('warm');
    await fx.fake.waitFor(() => b.poolStatus().sleeping === 2 && b.poolStatus().busy === 1, {
      what: 'tiers after claim',
    });
    expect(fx.fake.machines().filter((m) => m.phase === 'running')).toHaveLength(1);
  });

  it('pre-warms on schedule: more warm machines inside the window, back to sleep after it', async () => {
    const fx = await dedalusFixture();
    let clock = new Date('2026-03-02T07:59:00'); // a Monday, before the window
    const b = fx.backend(
      { sleeping: 2, warm: 0, max: 3, schedule: [{ days: 'mon-fri', hours: '08:00-18:00', warm: 1 }] },
      { now: () => clock, timing: { maintenanceIntervalMs: 50 } },
    );
    await b.prepare(sig());
    const phases = () =>
      fx.fake
        .machines()
        .map((m) => m.phase)
        .sort();
    await fx.fake.waitFor(() => phases().join() === 'sleeping,sleeping', { what: 'two asleep before 08:00' });
    expect(b.capabilities.warmRunners?.()).toBe(0);
    clock = new Date('2026-03-02T08:00:00');
    expect(b.capabilities.warmRunners?.()).toBe(1);
    // One of the sleepers is woken for the warm tier and one more is made to keep two asleep.
    await fx.fake.waitFor(() => phases().join() === 'running,sleeping,sleeping', {
      what: 'one warm + two asleep at 08:00',
      timeout: 15_000,
    });
    const h = await b.start(spec(fx, fx.jit('sleep 30')), sig());
    expect(h.tier).toBe('warm');
    await b.remove(h.name, sig());
    clock = new Date('2026-03-02T18:00:00');
    await fx.fake.waitFor(() => phases().every((p) => p === 'sleeping'), { what: 'all asleep after 18:00' });
  });

  it('replaces a pool machine the platform reports failed', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({ sleeping: 1 }, { timing: { maintenanceIntervalMs: 100 } });
    await b.prepare(sig());
    const first = await fx.fake.waitFor(() => fx.fake.machines().find((m) => m.phase === 'sleeping'), {
      what: 'pool',
    });
    fx.fake.failMachine(first.id);
    const fresh = await fx.fake.waitFor(
      () => fx.fake.machines().find((m) => m.id !== first.id && m.phase === 'sleeping'),
      { what: 'replacement', timeout: 15_000 },
    );
    await fx.fake.waitFor(() => fx.fake.machine(first.id)?.phase === 'destroyed', {
      what: 'failed one deleted',
    });
    expect(fx.provisionRuns(fresh)).toBe(1);
    expect(b.metrics().counters.replaced).toBe(1);
  });

  it('close() leaves no machine awake and no execution running; close({removeAll}) deletes ours only', async () => {
    const fx = await dedalusFixture();
    const foreign = fx.fake.createMachineDirect();
    const b = fx.backend({ warm: 1, max: 3 });
    await b.prepare(sig());
    const s = spec(fx, fx.jit('sleep 60'));
    const h = await b.start(s, sig());
    await b.close({ signal: sig() });
    const ours = fx.fake.machines().filter((m) => !m.foreign);
    expect(ours.length).toBeGreaterThan(0);
    for (const m of ours) expect(m.phase).toBe('sleeping');
    expect(fx.fake.executions().filter((e) => e.status === 'running')).toEqual([]);
    await expect(b.start(spec(fx, fx.jit('exit 0')), sig())).rejects.toMatchObject({
      code: 'DEDALUS_CLOSED',
    });

    const next = fx.backend({ warm: 1, max: 3 });
    expect((await next.listOwned(sig())).map((r) => [r.name, r.state, r.resourceId])).toEqual([
      [s.name, 'exited', h.resourceId],
    ]);
    await next.close({ removeAll: true, signal: sig() });
    for (const m of ours) expect(fx.fake.machine(m.id)?.phase).toBe('destroyed');
    expect(fx.fake.machine(foreign.id)?.phase).toBe('running');
    expect(fx.fake.requestsFor(foreign.id)).toEqual([]);
    expect(await fx.backend().listOwned(sig())).toEqual([]);
  });

  it('never touches a machine that is not in its state file, whatever it does', async () => {
    const fx = await dedalusFixture();
    const foreign = fx.fake.createMachineDirect();
    const asleepForeign = fx.fake.createMachineDirect();
    const b = fx.backend(
      { sleeping: 1, warm: 1, max: 4, reuse: false },
      { timing: { maintenanceIntervalMs: 50 } },
    );
    await b.prepare(sig());
    await runJob(fx, b, 'exit 0');
    await runJob(fx, b, 'exit 1');
    await b.close({ removeAll: true, signal: sig() });
    for (const m of [foreign, asleepForeign]) {
      expect(fx.fake.requestsFor(m.id)).toEqual([]);
      expect(m.history).toEqual(['accepted', 'starting', 'running']);
    }
    // It was listed (read-only) while the pool read phases.
    expect(fx.fake.requests.some((r) => r.route === 'machines.list')).toBe(true);
  });

  it('puts every mutation under an Idempotency-Key and rides out 429/503 with retry hints', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend();
    fx.fake.faults.inject({ route: 'machines.create', status: 503, retryAfterMs: 20 });
    fx.fake.faults.inject({ route: 'executions.create', status: 429, retryAfter: '0', times: 2 });
    fx.fake.faults.inject({ route: 'machines.sleep', status: 409, retryAfterMs: 10 });
    const { exit } = await runJob(fx, b, 'exit 0');
    expect(exit.exitCode).toBe(0);
    const mutations = fx.fake.mutations();
    expect(mutations.every((r) => typeof r.idempotencyKey === 'string' && r.idempotencyKey.length > 0)).toBe(
      true,
    );
    for (const route of ['machines.create', 'executions.create']) {
      const failed = mutations.filter((r) => r.route === route && r.status >= 400);
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) {
        const resent = mutations.filter((r) => r.idempotencyKey === f.idempotencyKey);
        expect(resent.at(-1)?.status).toBeLessThan(300);
      }
    }
  });

  it('never writes the API key or the JIT config to the logs, failures included', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend();
    fx.fake.faults.inject({ route: 'machines.create', status: 503, times: 2 });
    const jit = fx.jit('echo job; exit 3');
    const s = spec(fx, jit);
    const exited = exitOf(b.events(sig()), s.name);
    await b.start(s, sig());
    await exited;
    const failing = fx.backend(
      { provisionScript: join(fx.root, 'missing.sh') },
      { owner: { ...fx.owner, scaleSet: 'x' } },
    );
    await expect(failing.start(spec(fx, jit), sig())).rejects.toThrow();
    await b.close({ signal: sig() });
    expect(fx.logs.length).toBeGreaterThan(5);
    const all = fx.logs.join('\n');
    expect(all).not.toContain(fx.fake.apiKey);
    expect(all).not.toContain(jit.reveal());
    expect(all).toContain('dedalus job figures');
  });

  it('keeps /home/machine across sleep and loses the root filesystem, as the docs warn', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend();
    // The job script travels base64-encoded, so the fake cannot map literal paths in it: use the env.
    const one = await runJob(fx, b, 'echo a > "$TMPDIR/scratch"; echo b > "$HOME/keep"');
    await asleep(fx, one.handle.resourceId);
    const two = await runJob(
      fx,
      b,
      'test ! -e "$TMPDIR/scratch" || exit 20; test -f "$HOME/keep" || exit 21',
    );
    expect(two.exit.exitCode).toBe(0);
    const m = fx.fake.machine(one.handle.resourceId);
    expect(readFileSync(fx.home(m, 'keep'), 'utf8')).toBe('b\n');
  });
});
