import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MachineStateFile } from '../../backends/dedalus/state.js';
import type { RunnerHandle } from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { type DedalusFixture, dedalusFixture } from '../fakes/dedalus/backend-fixture.js';
import type { ChildArgs } from '../fakes/dedalus/daemon-child.js';
import { clientFor } from '../fakes/dedalus/harness.js';
import { exitOf } from './conformance.js';

const CHILD = fileURLToPath(new URL('../fakes/dedalus/daemon-child.ts', import.meta.url));
const sig = () => AbortSignal.timeout(20_000);

/** Runs a daemon in a child process until it has started one runner, then SIGKILLs it. */
async function crashAfterStart(fx: DedalusFixture, runner: ChildArgs['runner']): Promise<RunnerHandle> {
  const { apiKey: _key, ...cfg } = fx.cfg();
  const args: ChildArgs = { owner: fx.owner, stateDir: fx.stateDir, apiKey: fx.fake.apiKey, cfg, runner };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    exited.then(([code]) => {
      throw new Error(`daemon child exited ${code} before starting a runner: ${stderr}`);
    }),
  ]);
  child.kill('SIGKILL');
  await exited;
  return JSON.parse(first) as RunnerHandle;
}

describe('dedalus backend: adoption after a crash', () => {
  it('a runner survives a daemon crash; the next daemon lists it, watches it and sleeps its machine after the job', async () => {
    const fx = await dedalusFixture();
    const name = makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId);
    // The job waits for a file the test creates, so it is surely mid-job when the daemon dies.
    const job = 'while [ ! -f "$HOME/go" ]; do sleep 0.05; done; echo done > "$HOME/finished"; exit 0';
    const handle = await crashAfterStart(fx, { name, runnerId: 42, jit: fx.jit(job).reveal() });
    const m = fx.fake.machine(handle.resourceId);
    expect(m?.phase).toBe('running');
    const runnerExec = fx.fake
      .executions(handle.resourceId)
      .find((e) => 'ACTIONS_RUNNER_INPUT_JITCONFIG' in e.env);
    expect(runnerExec?.status).toBe('running');

    const next = fx.backend();
    expect(await next.listOwned(sig())).toEqual([
      expect.objectContaining({ name, resourceId: handle.resourceId, state: 'running', runnerId: 42 }),
    ]);
    const exited = exitOf(next.events(sig()), name);
    await next.prepare(sig());
    expect(runnerExec?.status).toBe('running');
    writeFileSync(fx.home(m, 'go'), '');
    const e = await exited;
    expect(e).toMatchObject({ exitCode: 0, resourceId: handle.resourceId });
    expect(readFileSync(fx.home(m, 'finished'), 'utf8')).toBe('done\n');
    await fx.fake.waitFor(() => m?.phase === 'sleeping', { what: 'adopted machine asleep after the job' });
    expect((await next.listOwned(sig())).map((r) => r.state)).toEqual(['exited']);
    await next.remove(name, sig());
    expect(await next.listOwned(sig())).toEqual([]);
  });

  it('a start cut short before its execution id was saved: the execution is found and cancelled', async () => {
    const fx = await dedalusFixture();
    const client = clientFor(fx.fake);
    const machine = await client.machines.create({ vcpu: 1, memory_mib: 1024, storage_gib: 10 });
    await fx.fake.waitFor(() => fx.fake.machine(machine.machine_id)?.phase === 'running', {
      what: 'running',
    });
    const stray = await client.executions.create(machine.machine_id, {
      command: ['/bin/sh', '-c', 'sleep 60'],
    });
    const name = makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId);
    mkdirSync(fx.stateDir, { recursive: true });
    writeFileSync(
      MachineStateFile.fileFor(fx.stateDir, fx.owner),
      JSON.stringify({
        version: 1,
        machines: [
          {
            machineId: machine.machine_id,
            owner: fx.owner,
            provisioned: true,
            jobs: 1,
            createdAt: new Date().toISOString(),
            currentRunner: { name, runnerId: 7, startedAt: new Date().toISOString() },
          },
        ],
      }),
    );
    const b = fx.backend();
    expect((await b.listOwned(sig())).map((r) => [r.name, r.state])).toEqual([[name, 'starting']]);
    const exited = exitOf(b.events(sig()), name);
    await b.prepare(sig());
    expect(await exited).toMatchObject({ reason: 'start interrupted by a restart' });
    expect(fx.fake.executions(machine.machine_id).find((e) => e.id === stray.execution_id)?.status).toBe(
      'cancelled',
    );
    await fx.fake.waitFor(() => fx.fake.machine(machine.machine_id)?.phase === 'sleeping', {
      what: 'asleep',
    });
    expect((await b.listOwned(sig())).map((r) => [r.name, r.state])).toEqual([[name, 'exited']]);
    // Made with the platform's 5-minute default: adoption sets ours (60 s job-timeout + 10 min margin).
    expect(fx.fake.machine(machine.machine_id)?.autosleepSeconds).toBe(660);
    expect(fx.fake.requestsFor(machine.machine_id).filter((r) => r.route === 'machines.update')).toHaveLength(
      1,
    );
  });

  it('replays a create the crashed daemon never saw answered, and deletes the machine it made', async () => {
    const fx = await dedalusFixture();
    const client = clientFor(fx.fake);
    const key = '6f1c2a9e-0d4b-4c1f-8a7e-5b3c9d2e1f00';
    const body = { vcpu: 1, memory_mib: 1024, storage_gib: 10, autosleep: '3600' };
    const orphan = await client.machines.create(body, undefined, key);
    mkdirSync(fx.stateDir, { recursive: true });
    const file = MachineStateFile.fileFor(fx.stateDir, fx.owner);
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        machines: [],
        pendingCreates: [{ idempotencyKey: key, body, at: new Date().toISOString() }],
      }),
    );
    const b = fx.backend();
    await b.prepare(sig());
    await fx.fake.waitFor(() => fx.fake.machine(orphan.machine_id)?.phase === 'destroyed', {
      what: 'orphan deleted',
    });
    expect(fx.fake.machines()).toHaveLength(1);
    const replays = fx.fake.requests.filter((r) => r.idempotencyKey === key);
    expect(replays.map((r) => r.status)).toEqual([202, 202]);
    await pollUntil(async () => (await b.ownedMachines()).length === 0, {
      timeout: 5000,
      what: 'record dropped',
    });
    expect(JSON.parse(readFileSync(file, 'utf8')).pendingCreates).toEqual([]);
  });

  it('finds and deletes a machine whose create was committed but never answered', async () => {
    const fx = await dedalusFixture();
    const b = fx.backend({}, { timing: { maintenanceIntervalMs: 50 } });
    await b.prepare(sig());
    // The server makes the machine but the answer is lost, and every resend meets a 503.
    fx.fake.faults.inject({ route: 'machines.create', kind: 'drop-response' });
    fx.fake.faults.inject({ route: 'machines.create', status: 503, times: 4 });
    const name = makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId);
    await expect(b.start({ name, runnerId: 9, jitConfig: fx.jit('exit 0') }, sig())).rejects.toMatchObject({
      code: 'DEDALUS_UNAVAILABLE',
    });
    const [orphan] = fx.fake.machines();
    await fx.fake.waitFor(() => orphan?.phase === 'destroyed', {
      what: 'unanswered create found and deleted',
    });
    const file = MachineStateFile.fileFor(fx.stateDir, fx.owner);
    await pollUntil(() => JSON.parse(readFileSync(file, 'utf8')).pendingCreates.length === 0, {
      timeout: 5000,
      what: 'pending create resolved',
    });
    expect(fx.fake.machines()).toHaveLength(1);
    expect(await b.listOwned(sig())).toEqual([]);
  });

  it('refuses a corrupt state file instead of forgetting which machines are ours', async () => {
    const fx = await dedalusFixture();
    mkdirSync(fx.stateDir, { recursive: true });
    writeFileSync(
      MachineStateFile.fileFor(fx.stateDir, fx.owner),
      '{"version":1,"machines":[{"machineId":1}]}',
    );
    const b = fx.backend();
    await expect(b.prepare(sig())).rejects.toMatchObject({ code: 'DEDALUS_STATE_CORRUPT' });
    await expect(b.listOwned(sig())).rejects.toMatchObject({ code: 'DEDALUS_STATE_CORRUPT' });
    expect(fx.fake.mutations()).toEqual([]);
  });

  it.each([
    ['answers 404', 'hidden'],
    ['is reported destroyed', 'listed'],
  ] as const)(
    'forgets a machine that vanished at Dedalus (it %s) and reports its runner exited',
    async (_how, destroyedMachines) => {
      const fx = await dedalusFixture({ destroyedMachines });
      const b = fx.backend();
      const name = makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId);
      const h = await b.start({ name, runnerId: 3, jitConfig: fx.jit('sleep 60') }, sig());
      await b.close({ signal: sig() });
      // Deleted behind our back (console, another tool): the next daemon must not trip over it.
      await clientFor(fx.fake).machines.delete(h.resourceId);
      await fx.fake.waitFor(() => fx.fake.machine(h.resourceId)?.phase === 'destroyed', { what: 'gone' });
      const deletedAt = Date.now();
      const next = fx.backend();
      // Adoption alone (no pool round), as `runner doctor --fix` does it, already forgets the machine.
      await next.remove('nobody-of-ours', sig());
      expect(await next.ownedMachines()).toEqual([]);
      await next.prepare(sig());
      expect(await next.ownedMachines()).toEqual([]);
      expect((await next.listOwned(sig())).map((r) => [r.name, r.state])).toEqual([[name, 'exited']]);
      // Nothing was asked of the machine beyond reading it.
      const after = fx.fake.requestsFor(h.resourceId).filter((r) => r.at > deletedAt);
      expect(after.filter((r) => r.method !== 'GET')).toEqual([]);
    },
  );

  it.each([
    ['answers 404', 'hidden'],
    ['is reported destroyed', 'listed'],
  ] as const)(
    'the pool forgets an idle machine deleted behind its back (it %s) and never starts a runner on it',
    async (_how, destroyedMachines) => {
      const fx = await dedalusFixture({ destroyedMachines });
      const b = fx.backend({ sleeping: 1 }, { timing: { maintenanceIntervalMs: 50 } });
      await b.prepare(sig());
      const pooled = await fx.fake.waitFor(() => fx.fake.machines().find((m) => m.phase === 'sleeping'), {
        what: 'pool machine asleep',
      });
      await clientFor(fx.fake).machines.delete(pooled.id);
      await pollUntil(async () => !(await b.ownedMachines()).some((r) => r.machineId === pooled.id), {
        timeout: 5000,
        what: 'the pool forgets it',
      });
      const h = await b.start(
        {
          name: makeRunnerName('dedalus-e2e', fx.owner.instanceId),
          runnerId: 11,
          jitConfig: fx.jit('exit 0'),
        },
        sig(),
      );
      expect(h.resourceId).not.toBe(pooled.id);
    },
  );

  it('close() replays a machine create it cut short and deletes what it made: nothing is left awake', async () => {
    const fx = await dedalusFixture();
    // The pool's create reaches the server, which commits it only after close() has given up on it.
    fx.fake.faults.inject({ route: 'machines.create', kind: 'drop-response', delayMs: 300 });
    const b = fx.backend({ warm: 1 });
    await b.prepare(sig());
    const create = await fx.fake.waitFor(
      () => fx.fake.mutations().find((r) => r.route === 'machines.create'),
      { what: "the pool's machine create" },
    );
    await b.close({ signal: sig() });
    await fx.fake.waitFor(() => create.status !== 0, { what: 'the cut-short create to be handled' });
    expect(fx.fake.machines().length).toBe(1);
    expect(fx.fake.machines().filter((m) => m.desired === 'running')).toEqual([]);
  });

  it('remove() on a fresh backend (runner doctor --fix) adopts but never starts the pool: no machine made or woken', async () => {
    const fx = await dedalusFixture();
    // The positive control: a backend that is prepared starts its pool and makes the warm machine.
    const daemon = fx.backend({ warm: 1 });
    await daemon.prepare(sig());
    await fx.fake.waitFor(() => fx.fake.mutations().length > 0, {
      what: 'the pool creating its warm machine',
    });
    await daemon.close({ signal: sig() });
    // Closing may cut the warm machine's create short; close replays it, so nothing is left awake or
    // pending for the next process (whose cleanup would otherwise show up as requests below).
    expect(fx.fake.machines().filter((m) => m.desired === 'running')).toEqual([]);
    const before = fx.fake.mutations().length;

    const doctor = fx.backend({ warm: 3 });
    await doctor.remove(makeRunnerName('dedalus-e2e', fx.owner.instanceId), sig());
    // Absence has no event to wait for: a started pool would ask for two more machines within
    // milliseconds (as the control shows); 1.5 s without any request is the evidence it did not start.
    await fx.fake
      .waitFor(() => fx.fake.mutations().length > before, { timeout: 1500, what: 'a pool request' })
      .catch(() => {});
    await doctor.close({ signal: sig() });
    expect(
      fx.fake
        .mutations()
        .slice(before)
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual([]);
  });
});
