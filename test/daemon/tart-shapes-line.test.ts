import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { IMAGE, tartFixture } from '../fakes/tart/fixture.js';
import { configFor, startTestDaemon } from './harness.js';
import { jobsInLineOnFullBudget } from './shapes-line.js';

/**
 * Job shapes on Tart through the whole daemon (issue 16): two shapes share the Mac's CPU budget
 * (`[tart] host-cpu`), jobs start in the order GitHub queued them across the shapes, and the budget is
 * never overcommitted — against the fake Actions service and the fake tart, with the fake runner.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

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
    const gateDir = await mkdtemp(join(tmpdir(), 'tart-line-gate-'));
    cleanups.push(() => rm(gateDir, { recursive: true, force: true }));
    await jobsInLineOnFullBudget({
      fake: f,
      daemon,
      small: { set: 'mac-cpu4-ram8', cpu: 4 },
      big: { set: 'mac-cpu8-ram8', cpu: 8 },
      labels: (cpu) => ['mac', `cpu=${cpu}`],
      gateDir,
      budget: "the Mac's CPUs",
    });
    // Every VM was sized before it ran, at its shape's CPUs: 4, 8, 4.
    const sets = fx.tart.commands().filter((c) => c.startsWith('set '));
    expect(sets.map((c) => c.match(/--cpu (\d+)/)?.[1])).toEqual(['4', '8', '4']);
    await daemon.shutdown();
  }, 120_000);
});
