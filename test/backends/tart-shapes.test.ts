import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendCapacityError } from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { load } from '../config/helpers.js';
import { IMAGE, spec, type TartFixture, tartFixture } from '../fakes/tart/fixture.js';

/** Job shapes on Tart (issue 16): each clone is sized with `tart set` before it boots. */
let fx: TartFixture;
beforeEach(() => {
  fx = tartFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

describe('tart backend: job shapes', () => {
  it("sizes each VM with tart set from its shape before tart run, the pool's VMs too", async () => {
    const { scaleSets } = await load(`url = "https://github.com/my-org"
name = "mac"
backend = "tart"
runner-image = "${IMAGE}"
[tart]
pool-size = 1
[[shape]]
cpu = 4
ram = 8
`);
    const set = scaleSets[0];
    if (!set) throw new Error('no scale set');
    expect(set.name).toBe('mac-cpu4-ram8');
    const { cpu, memory, poolSize } = set.tart;
    const backend = fx.backend({ scaleSet: set.name, cpu, memory, poolSize });
    const name = makeRunnerName(set.name, 'inst-0001', '0000aaaa');
    await backend.start(spec(name, 'jit-shaped'), AbortSignal.timeout(30_000));
    await fx.runnerStarted('jit-shaped');

    const commands = fx.tart.commands();
    const sets = commands.filter((c) => c.startsWith('set '));
    // The runner's VM and every pool VM: each set to the shape's size, each before its own run.
    expect(sets.length).toBeGreaterThanOrEqual(1);
    for (const c of sets) {
      expect(c).toMatch(/^set \S+ --cpu 4 --memory 8192$/);
      // A pool VM may not have been run yet when the commands were read.
      const vm = c.split(' ')[1];
      const run = commands.findIndex((x) => x.startsWith(`run ${vm} `));
      if (run >= 0) expect(commands.indexOf(c)).toBeLessThan(run);
    }
    // No VM ran without being sized first.
    const ran = commands.filter((c) => c.startsWith('run ')).map((c) => c.split(' ')[1]);
    expect(ran.every((vm) => sets.some((c) => c.split(' ')[1] === vm))).toBe(true);
  });
});

describe("tart backend: the Mac's budget (job shapes share it)", () => {
  it('never runs VMs past host-cpu or host-memory together; a shape waits until one ends', async () => {
    // Three VMs allowed by count, so the CPUs are what binds.
    fx.tart.setFaults({ VM_LIMIT: 3 });
    const budget = { maxVms: 3, hostCpu: 12, hostMemory: 49_152 };
    const big = fx.backend({ scaleSet: 'mac-cpu8-ram8', cpu: 8, memory: 8192, ...budget });
    const small = fx.backend({ scaleSet: 'mac-cpu4-ram8', cpu: 4, memory: 8192, ...budget });
    expect(big.budgets?.()).toEqual(['tart:mac']);
    expect(small.budgets?.()).toEqual(big.budgets?.());

    const bigRunner = makeRunnerName('mac-cpu8-ram8', 'inst-0001', '0000b001');
    await big.start(spec(bigRunner, 'jit-big'), AbortSignal.timeout(30_000));
    expect(small.hasRoom?.()).toBe(true);
    await small.start(
      spec(makeRunnerName('mac-cpu4-ram8', 'inst-0001', '0000c001'), 'jit-s1'),
      AbortSignal.timeout(30_000),
    );
    // 12 of 12 CPUs: a third VM would fit by count (3) and memory (24 of 48 GiB), not by CPUs.
    expect(small.hasRoom?.()).toBe(false);
    expect(big.hasRoom?.()).toBe(false);
    const third = makeRunnerName('mac-cpu4-ram8', 'inst-0001', '0000c002');
    const refused = await small
      .start(spec(third, 'jit-s2'), AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BackendCapacityError);
    expect((refused as BackendCapacityError).limit).toBe('budget');
    expect((refused as Error).message).toMatch(/CPUs 12\/12 in use, 4 more asked \(tart\.host-cpu\)/);
    // Nothing was cloned for the refused start.
    expect(fx.tart.commands().filter((c) => c.startsWith('clone ')).length).toBe(2);

    await big.remove(bigRunner, AbortSignal.timeout(30_000));
    expect(small.hasRoom?.()).toBe(true);
    await small.start(spec(third, 'jit-s2'), AbortSignal.timeout(30_000));
    await fx.runnerStarted('jit-s2');
  });

  it('counts VMs of every set by their size, memory as well as CPUs', async () => {
    const budget = { maxVms: 2, hostCpu: 0, hostMemory: 24_576 };
    const a = fx.backend({ scaleSet: 'mac-cpu4-ram16', cpu: 4, memory: 16_384, ...budget });
    const b = fx.backend({ scaleSet: 'mac-cpu4-ram12', cpu: 4, memory: 12_288, ...budget });
    await a.start(
      spec(makeRunnerName('mac-cpu4-ram16', 'inst-0001', '0000d001'), 'jit-m1'),
      AbortSignal.timeout(30_000),
    );
    expect(b.hasRoom?.()).toBe(false);
    const refused = await b
      .start(
        spec(makeRunnerName('mac-cpu4-ram12', 'inst-0001', '0000e001'), 'jit-m2'),
        AbortSignal.timeout(30_000),
      )
      .catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(
      /memory 16384\/24576 MiB in use, 12288 more asked \(tart\.host-memory\)/,
    );
  });
});
