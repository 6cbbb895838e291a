import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { IMAGE, tartFixture } from '../fakes/tart/fixture.js';
import { configFor, startTestDaemon } from './harness.js';

/**
 * Job shapes on Tart through the whole daemon (issue 16): two shapes share the Mac's CPU budget
 * (`[tart] host-cpu`), jobs start in the order GitHub queued them across the shapes, and the budget is
 * never overcommitted — against the fake Actions service and the fake tart, with the fake runner.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gates() {
  const dir = await mkdtemp(join(tmpdir(), 'tart-line-gate-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return (name: string) => {
    const file = join(dir, name);
    return { script: `until [ -e ${file} ]; do sleep 0.05; done`, open: () => writeFile(file, '') };
  };
}

describe('job shapes on Tart, through the daemon', () => {
  it("a big job waiting for the Mac's CPUs is not passed by a later small one, and the Mac is never overcommitted", async () => {
    const fx = tartFixture();
    cleanups.push(() => fx.cleanup());
    const f: FakeActionsService = await startFakeActionsService({ holdMs: 300, runnerClaimHoldMs: 2_000 });
    cleanups.push(() => f.close());
    const runnerDir = fileURLToPath(new URL('../fakes/runner', import.meta.url));
    // 8 CPUs for VMs: a 4-CPU job leaves room for another 4, not for an 8.
    const toml = `name = "mac"
backend = "tart"
runner-image = "${IMAGE}"
max-runners = 2
[tart]
home = "${fx.tart.home}"
runner-dir = "${runnerDir}"
boot-timeout = "30s"
host-cpu = 8
[[shape]]
cpu = 4
ram = 8
[[shape]]
cpu = 8
ram = 8
`;
    const { daemon } = await startTestDaemon(await configFor(f, toml, fx.stateDir));
    cleanups.push(async () => {
      daemon.abort();
      await daemon.done;
    });
    const small = 'mac-cpu4-ram8';
    const big = 'mac-cpu8-ram8';
    const of = (d: Daemon, name: string) => d.status().scaleSets.find((s) => s.name === name);
    await f.waitFor(() => f.sessions().length === 2, { what: 'both shapes listening', timeout: 20_000 });
    const gate = await gates();
    const started = (id: number) =>
      f
        .jobs()
        .find((j) => j.requestId === id)
        ?.history.find((h) => h.state === 'started')?.at;
    const ended = (id: number) =>
      f
        .jobs()
        .find((j) => j.requestId === id)
        ?.history.find((h) => h.state === 'completed')?.at;

    const g1 = gate('small-1');
    const s1 = f.queueJob({ labels: ['mac', 'cpu=4'], script: g1.script });
    await f.waitFor(() => started(s1.requestId) !== undefined, {
      what: 'the first small job running',
      timeout: 30_000,
    });
    const gb = gate('big');
    const b = f.queueJob({ labels: ['mac', 'cpu=8'], script: gb.script });
    await f.waitFor(() => of(daemon, big)?.waiting?.reason === 'budget', {
      what: "the big job waiting for the Mac's CPUs",
      timeout: 30_000,
    });
    // 4 CPUs are free, enough for a second small job: but they are the big job's, which is older.
    const g2 = gate('small-2');
    const s2 = f.queueJob({ labels: ['mac', 'cpu=4'], script: g2.script });
    const waits = await f.waitFor(
      () => of(daemon, small)?.waiting?.reason === 'older-job' && of(daemon, small)?.waiting,
      {
        what: 'the later small job waiting behind the big one',
        timeout: 30_000,
      },
    );
    expect(waits).toMatchObject({ jobs: 1, detail: big });
    expect(started(b.requestId)).toBeUndefined();
    expect(started(s2.requestId)).toBeUndefined();

    // The first small job ends: the big one takes the whole Mac, and the second small one waits for it.
    await g1.open();
    await f.waitFor(() => started(b.requestId) !== undefined, {
      what: 'the big job running',
      timeout: 30_000,
    });
    await g2.open();
    await gb.open();
    await f.waitFor(() => f.jobs().every((j) => j.state === 'completed'), {
      what: 'every job done',
      timeout: 60_000,
    });
    expect(started(b.requestId)).toBeGreaterThan(ended(s1.requestId) ?? Number.POSITIVE_INFINITY);
    expect(started(s2.requestId)).toBeGreaterThan(ended(b.requestId) ?? Number.POSITIVE_INFINITY);
    // Every VM was sized before it ran, at its shape's CPUs: 4, 8, 4.
    const sets = fx.tart.commands().filter((c) => c.startsWith('set '));
    expect(sets.map((c) => c.match(/--cpu (\d+)/)?.[1])).toEqual(['4', '8', '4']);
    await daemon.shutdown();
  }, 120_000);
});
