import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { macFor } from '../../backends/tart/mac.js';
import type { RunnerBackend } from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { spec, type TartFixture, tartFixture, waitFor } from '../fakes/tart/fixture.js';

let fx: TartFixture;
beforeEach(() => {
  fx = tartFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const signal = () => AbortSignal.timeout(30_000);
const clones = () => fx.tart.commands().filter((c) => c.startsWith('clone '));
const warm = (b: RunnerBackend, n: number) => waitFor(() => b.poolStatus().warm === n, `${n} warm VMs`);

describe('Tart warm pool', () => {
  it('holds exactly pool-size VMs, hands one to start (tier warm) and refills to exactly pool-size', async () => {
    fx.tart.setFaults({ VM_LIMIT: 4 }); // a bigger Mac than Apple allows, so max-vms is the only cap
    const backend = fx.backend({ poolSize: 2, maxVms: 4 });
    await backend.prepare(signal());
    await warm(backend, 2);
    expect(backend.poolStatus()).toEqual({ warm: 2, booting: 0 });
    expect(clones()).toHaveLength(2);
    expect(fx.tart.vms().filter((v) => v.running)).toHaveLength(2);

    const name = makeRunnerName('mac-ci', 'inst-0001', '0000b001');
    const before = fx.tart.calls().length;
    const handle = await backend.start(spec(name, 'jit-warm'), signal());
    expect(handle.tier).toBe('warm');
    expect(handle.name).toBe(name);
    expect(handle.resourceId).toMatch(/^mac-ci-inst00-pool-[0-9a-f]{8}$/);
    expect(await fx.runnerStarted('jit-warm')).toBe('jit-warm');
    // The warm VM was already booted: start only delivers the JIT config and watches the runner.
    await waitFor(() => fx.tart.commands().some((c) => c.includes('runner-watch')), 'the watcher exec');
    const startCalls = fx.tart
      .calls()
      .slice(before)
      .filter((c) => c.argv.includes(handle.resourceId));
    expect(startCalls.map((c) => c.argv.slice(0, 3).join(' '))).toEqual([
      `exec -i ${handle.resourceId}`,
      `exec ${handle.resourceId} sh`,
    ]);

    await warm(backend, 2).catch((e) => {
      console.log(fx.logs.join(''), fx.tart.commands());
      throw e;
    });
    expect(clones()).toHaveLength(3);
    expect(fx.tart.vms()).toHaveLength(3); // 2 warm + 1 runner, never more
    expect((await backend.listOwned(signal())).map((o) => o.name)).toEqual([name]);
  });

  it('replaces a warm VM that dies', async () => {
    const backend = fx.backend({ poolSize: 2, maxVms: 2 });
    await backend.prepare(signal());
    await warm(backend, 2);
    const [victim, survivor] = fx.tart.vms().map((v) => v.name) as [string, string];
    fx.tart.killVm(victim);
    await waitFor(
      () => backend.poolStatus().warm === 2 && !fx.tart.vms().some((v) => v.name === victim),
      'replacement VM',
    );
    const now = fx.tart.vms().map((v) => v.name);
    expect(now).toContain(survivor);
    expect(now).toHaveLength(2);
    expect(fx.tart.commands()).toContain(`delete ${victim}`);
    expect(clones()).toHaveLength(3);
  });

  it('cold-boots instead of waiting when no warm VM is ready, and refuses when the cap is full', async () => {
    fx.tart.setFaults({ BOOT_MS: 60_000 }); // warm VMs stay booting for the whole test
    const backend = fx.backend({ poolSize: 1, maxVms: 2, bootTimeout: 60_000 });
    await backend.prepare(signal());
    await waitFor(() => fx.tart.vms().some((v) => v.running), 'a booting warm VM');
    fx.tart.setFaults({});
    const name = makeRunnerName('mac-ci', 'inst-0001', '0000b101');
    expect(await backend.start(spec(name, 'jit-cold-not-wait'), signal())).toMatchObject({
      tier: 'cold',
      resourceId: name,
    });

    const started = Date.now();
    await expect(
      backend.start(spec(makeRunnerName('mac-ci', 'inst-0001', '0000b102'), 'x'), signal()),
    ).rejects.toMatchObject({
      code: 'BACKEND_CAPACITY',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('close() during a refill returns within seconds and deletes every VM, booting ones included', async () => {
    fx.tart.setFaults({ BOOT_MS: 60_000 });
    const backend = fx.backend({ poolSize: 2, maxVms: 2, bootTimeout: 60_000 });
    await backend.prepare(signal());
    await waitFor(() => fx.tart.vms().filter((v) => v.running).length === 2, 'two booting VMs');
    expect(backend.poolStatus()).toEqual({ warm: 0, booting: 2 });
    const started = Date.now();
    await backend.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fx.tart.vms()).toEqual([]);
    expect(await backend.listOwned(signal())).toEqual([]);
  });

  it('backs off when warm VMs fail to boot, then fills once they can', async () => {
    fx.tart.setFaults({ FAIL_CLONE: 1 });
    const backend = fx.backend({ poolSize: 1 });
    await backend.prepare(signal());
    await waitFor(() => clones().length >= 3, 'three failed clones', 15_000);
    const times = fx.tart
      .calls()
      .filter((c) => c.argv[0] === 'clone')
      .map((c) => c.t);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    expect(gaps[0]).toBeGreaterThan(500); // ~1 s, ±20 % jitter
    expect(gaps[1]).toBeGreaterThan(gaps[0]!); // ~2 s: growing, whatever the jitter
    expect(fx.tart.vms()).toEqual([]);
    fx.tart.setFaults({});
    await warm(backend, 1);
  });
});

describe('Tart host cap and MACs across scale sets', () => {
  it('shares max-vms between two scale sets and gives every VM a distinct deterministic MAC', async () => {
    const a = fx.backend({ scaleSet: 'set-a', maxVms: 2 });
    const b = fx.backend({ scaleSet: 'set-b', maxVms: 2 });
    const ra = makeRunnerName('set-a', 'inst-0001', '0000a001');
    const rb = makeRunnerName('set-b', 'inst-0001', '0000b001');
    await a.start(spec(ra, 'jit-a1'), signal());
    await b.start(spec(rb, 'jit-b1'), signal());
    const over = makeRunnerName('set-a', 'inst-0001', '0000a002');
    await expect(a.start(spec(over, 'jit-a2'), signal())).rejects.toMatchObject({ code: 'BACKEND_CAPACITY' });
    await expect(
      b.start(spec(makeRunnerName('set-b', 'inst-0001', '0000b002'), 'jit-b2'), signal()),
    ).rejects.toMatchObject({
      code: 'BACKEND_CAPACITY',
    });
    expect(
      fx.tart
        .vms()
        .map((v) => v.mac)
        .sort(),
    ).toEqual([macFor('inst-0001', 0), macFor('inst-0001', 1)]);

    await a.remove(ra, signal());
    const rb2 = makeRunnerName('set-b', 'inst-0001', '0000b003');
    await b.start(spec(rb2, 'jit-b3'), signal());
    const macs = fx.tart.vms().map((v) => v.mac);
    expect(new Set(macs).size).toBe(2);
    // The real limit is per Mac, not per TART_HOME: a set with another home is capped too.
    const elsewhere = fx.backend({ scaleSet: 'set-c', home: `${fx.root}/other-home`, pullPolicy: 'always' });
    await elsewhere.prepare(signal());
    await expect(
      elsewhere.start(spec(makeRunnerName('set-c', 'inst-0001', '0000c001'), 'jit-c'), signal()),
    ).rejects.toMatchObject({ code: 'BACKEND_CAPACITY' });
  });

  it("treats macOS refusing a VM (max-vms above the host's real limit) as a capacity limit", async () => {
    fx.tart.setFaults({ VM_LIMIT: 1 });
    const backend = fx.backend({ maxVms: 2 });
    await backend.start(spec(makeRunnerName('mac-ci', 'inst-0001', '0000d001'), 'jit-d1'), signal());
    const second = makeRunnerName('mac-ci', 'inst-0001', '0000d002');
    const err = await backend.start(spec(second, 'jit-d2'), signal()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'BACKEND_CAPACITY',
      message: expect.stringMatching(/exceeds the system limit/),
    });
    expect(fx.tart.vms().map((v) => v.name)).not.toContain(second);
  });

  it('counts warm pools of every scale set against the cap', async () => {
    const a = fx.backend({ scaleSet: 'set-a', poolSize: 1, maxVms: 2 });
    const b = fx.backend({ scaleSet: 'set-b', poolSize: 2, maxVms: 2 });
    await a.prepare(signal());
    await warm(a, 1);
    await b.prepare(signal());
    await warm(b, 1);
    expect(b.poolStatus()).toEqual({ warm: 1, booting: 0 }); // its second warm VM has no slot
    expect(fx.tart.vms()).toHaveLength(2);
  });
});
