import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { macFor } from '../../backends/tart/mac.js';
import { makeRunnerName, runnerNamePrefix } from '../../src/labels.js';
import type { CrashChildArgs } from '../fakes/tart/crash-child.js';
import { collect, IMAGE, spec, type TartFixture, tartFixture, waitFor } from '../fakes/tart/fixture.js';

const CRASH_CHILD = fileURLToPath(new URL('../fakes/tart/crash-child.ts', import.meta.url));

let fx: TartFixture;
let child: ChildProcess | undefined;
beforeEach(() => {
  fx = tartFixture();
});
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await fx.cleanup();
});

const signal = () => AbortSignal.timeout(30_000);
const runnerName = (suffix: string) => makeRunnerName('mac-ci', 'inst-0001', suffix);

/** Starts a backend in another process, lets it start `runners` and fill its pool, then kill -9s it. */
async function crashAfter(args: Pick<CrashChildArgs, 'poolSize' | 'runners'>): Promise<void> {
  const full: CrashChildArgs = {
    home: fx.tart.home,
    stateDir: fx.stateDir,
    runnerDir: fx.runnerDir,
    image: IMAGE,
    scaleSet: 'mac-ci',
    instanceId: 'inst-0001',
    ...args,
  };
  child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, JSON.stringify(full)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit')])) as [unknown];
  expect(line).toBe('ready');
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describe('Tart backend: ownership and adoption', () => {
  it('after a crash, adopts started runners (watching them in the guest) and deletes warm VMs', async () => {
    const jit = 'jit-survives-crash';
    const runner = runnerName('0000c001');
    await crashAfter({ poolSize: 1, runners: [{ name: runner, jit }] });
    await fx.runnerStarted(jit);
    const left = fx.tart.vms();
    expect(left.map((v) => v.running)).toEqual([true, true]);
    const warm = left.find((v) => v.name !== runner)!.name;

    const backend = fx.backend({ maxVms: 2 });
    const owned = await backend.listOwned(signal());
    expect(owned).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: runner, resourceId: runner, state: 'running', runnerId: 1 }),
        expect.objectContaining({ name: warm, resourceId: warm, state: 'unknown' }),
      ]),
    );
    expect(owned).toHaveLength(2);

    const { events } = collect(backend);
    await backend.prepare(signal());
    expect(fx.tart.vms().map((v) => v.name)).toEqual([runner]);

    // The adopted runner keeps the slot its MAC encodes; a new VM gets the other one of max-vms 2.
    const adoptedMac = left.find((v) => v.name === runner)!.mac;
    const fresh = runnerName('0000c002');
    await backend.start(spec(fresh, 'jit-after-crash', 2), signal());
    const macs = Object.fromEntries(fx.tart.vms().map((v) => [v.name, v.mac]));
    expect(macs[runner]).toBe(adoptedMac);
    expect([macs[runner], macs[fresh]].sort()).toEqual([macFor('inst-0001', 0), macFor('inst-0001', 1)]);
    await expect(backend.start(spec(runnerName('0000c003'), 'jit-over-cap'), signal())).rejects.toMatchObject(
      {
        code: 'BACKEND_CAPACITY',
      },
    );

    // No `tart run` child of ours for the adopted VM: its exit comes from the guest watcher.
    fx.releaseRunner(jit, 0);
    const exited = await waitFor(() => events.find((e) => e.name === runner), 'exit of the adopted runner');
    expect(exited).toMatchObject({ exitCode: 0, resourceId: runner, reason: 'runner exited' });
    await backend.remove(runner, signal());
    expect(fx.tart.vms().map((v) => v.name)).toEqual([fresh]);
  });

  it('close without removeAll leaves runner VMs running for the next backend and deletes warm ones', async () => {
    const first = fx.backend({ poolSize: 1, maxVms: 3 });
    await first.prepare(signal());
    await waitFor(() => first.poolStatus().warm === 1, 'warm VM');
    const runner = runnerName('0000c101');
    const handle = await first.start(spec(runner, 'jit-detach'), signal());
    expect(handle.tier).toBe('warm');
    await waitFor(() => first.poolStatus().warm === 1, 'pool refill');
    await first.close();
    expect(fx.tart.vms()).toEqual([expect.objectContaining({ name: handle.resourceId, running: true })]);

    const second = fx.backend({ maxVms: 3 });
    const { events } = collect(second);
    expect(await second.listOwned(signal())).toEqual([
      expect.objectContaining({ name: runner, resourceId: handle.resourceId, state: 'running' }),
    ]);
    await second.prepare(signal());
    fx.releaseRunner('jit-detach', 5);
    expect(await waitFor(() => events.find((e) => e.name === runner), 'exit after detach')).toMatchObject({
      exitCode: 5,
    });
    await second.remove(runner, signal());
    expect(fx.tart.vms()).toEqual([]);
  });

  it('never lists or touches a VM without our record, even one named exactly like ours', async () => {
    const prefix = runnerNamePrefix('mac-ci', 'inst-0001');
    const userVms = [`${prefix}deadbeef`, `${prefix}pool-12345678`, `mac-ci-other-0000abcd`];
    for (const vm of userVms) fx.tart.tart('clone', IMAGE, vm);
    const backend = fx.backend({ poolSize: 1 });
    await backend.prepare(signal());
    await waitFor(() => backend.poolStatus().warm === 1, 'warm VM');
    const runner = runnerName('0000c201');
    await backend.start(spec(runner, 'jit-user-vms'), signal());
    expect((await backend.listOwned(signal())).map((o) => o.name)).toEqual([runner]);
    await backend.close({ removeAll: true });

    expect(fx.tart.vms().map((v) => v.name)).toEqual([...userVms].sort());
    const touched = fx.tart.calls().filter((c) => userVms.some((vm) => c.argv.includes(vm)));
    expect(touched).toEqual([]);
  });

  it('keeps its records in an atomic journal in the state dir', async () => {
    const backend = fx.backend();
    const runner = runnerName('0000c301');
    await backend.start(spec(runner, 'jit-journal', 77), signal());
    const files = readdirSync(fx.stateDir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const journal = JSON.parse(readFileSync(join(fx.stateDir, files[0]!), 'utf8'));
    expect(journal.vms[runner]).toMatchObject({ kind: 'runner', phase: 'started', runner, runnerId: 77 });
    expect(readdirSync(fx.stateDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
