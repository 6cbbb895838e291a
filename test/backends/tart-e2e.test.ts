import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { configFor, startTestDaemon } from '../daemon/harness.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { IMAGE, type TartFixture, tartFixture, waitFor } from '../fakes/tart/fixture.js';
import type { FakeTart } from '../fakes/tart/index.js';

/** The fake runner of test/fakes/runner plays the Actions runner inside the fake VMs. */
const FAKE_RUNNER_DIR = fileURLToPath(new URL('../fakes/runner', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  tart: string,
  faults: Parameters<FakeTart['setFaults']>[0] = {},
): Promise<{ f: FakeActionsService; fx: TartFixture; daemon: Daemon }> {
  const fx = tartFixture();
  cleanups.push(() => fx.cleanup());
  fx.tart.setFaults(faults);
  const f = await startFakeActionsService({
    holdMs: 300,
    sessionIdleTimeoutMs: 1500,
    runnerClaimHoldMs: 2_000,
  });
  cleanups.push(() => f.close());
  const toml = `name = "mac"
max-runners = 2
backend = "tart"
runner-image = "${IMAGE}"
[tart]
home = "${fx.tart.home}"
runner-dir = "${FAKE_RUNNER_DIR}"
boot-timeout = "30s"
${tart}`;
  const config = await configFor(f, toml, fx.stateDir);
  const { daemon } = await startTestDaemon(config);
  cleanups.push(async () => {
    daemon.abort();
    await daemon.done;
  });
  await f.waitFor(() => f.sessions().length === 1, { what: 'session', timeout: 20_000 });
  return { f, fx, daemon };
}

const completed = (f: FakeActionsService, n: number) =>
  f.waitFor(() => f.jobs().length === n && f.jobs().every((j) => j.state === 'completed'), {
    what: `${n} jobs completed`,
    timeout: 45_000,
  });

describe('Tart backend end to end: daemon, fake Actions service, fake tart and fake runner', () => {
  it('runs jobs on cold VMs, one fresh VM per job, and deletes each VM after its job', async () => {
    const { f, fx, daemon } = await setup('pool-size = 0\n');
    f.queueJob({ scaleSet: 'mac', script: 'test -n "$RUNNER_JOB_ID"' });
    f.queueJob({ scaleSet: 'mac', script: 'exit 4' });
    await completed(f, 2);
    expect(
      f
        .jobs()
        .map((j) => j.result)
        .sort(),
    ).toEqual(['failed', 'succeeded']);
    await waitFor(() => fx.tart.vms().length === 0, 'VMs deleted');
    const runnerNames = f.jobs().map((j) => j.runnerName);
    const clones = fx.tart.calls().filter((c) => c.argv[0] === 'clone');
    for (const name of runnerNames) expect(clones.map((c) => c.argv[2])).toContain(name);
    for (const c of fx.tart.calls()) {
      expect(c.home).toBe(fx.tart.home);
      // The fake's JIT configs are base64 of {"runnerUrl":"…: none may appear on a command line.
      expect(c.argv.join(' ')).not.toContain('eyJydW5uZXJVcmwi');
    }
    await daemon.shutdown();
  });

  it('runs a job on a warm VM, refills the pool, and SIGTERM leaves no VM behind', async () => {
    const { f, fx, daemon } = await setup('pool-size = 1\nmax-vms = 2\n');
    // The daemon gives each backend kind its own state dir.
    const backendState = join(fx.stateDir, 'backends', 'tart');
    const warmVm = await waitFor(
      () =>
        Object.entries(fx.journal(backendState)).find(
          ([, r]) => r.kind === 'pool' && r.phase === 'ready',
        )?.[0],
      'a warm VM ready',
    );
    f.queueJob({ scaleSet: 'mac', script: 'true' });
    await completed(f, 1);
    expect(f.jobs()[0]?.result).toBe('succeeded');
    // The job's JIT config went to the warm VM: no clone was needed for it.
    const delivered = fx.tart.calls().find((c) => c.argv[0] === 'exec' && c.argv[1] === '-i');
    expect(delivered?.argv[2]).toBe(warmVm);
    await waitFor(
      () => fx.tart.vms().length === 1 && fx.tart.vms()[0]!.name !== warmVm,
      'used VM deleted and the pool refilled',
    );
    const started = Date.now();
    await daemon.shutdown();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fx.tart.vms()).toEqual([]);
  });

  it('SIGTERM while the pool is still booting its VM exits within seconds and deletes it', async () => {
    const { fx, daemon } = await setup('pool-size = 1\n', { BOOT_MS: 120_000 }); // VMs never finish booting
    await waitFor(() => fx.tart.vms().some((v) => v.running), 'a booting warm VM');
    const started = Date.now();
    await daemon.shutdown();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fx.tart.vms()).toEqual([]);
  });
});
