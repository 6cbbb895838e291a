import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
