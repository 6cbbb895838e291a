import { describe, expect, it } from 'vitest';
import type { DedalusBackend } from '../../backends/dedalus/index.js';
import { BackendCapacityError, type RunnerSpec } from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { load } from '../config/helpers.js';
import { type DedalusFixture, dedalusFixture } from '../fakes/dedalus/backend-fixture.js';
import { exitOf } from './conformance.js';

/**
 * Job shapes on Dedalus (issue 16): each machine is created with its shape's size, and a pooled
 * machine of another size (a shape whose size changed, keeping its name) never takes a job.
 */
const sig = () => AbortSignal.timeout(20_000);
let nextId = 1;

async function runJob(fx: DedalusFixture, b: DedalusBackend) {
  const s: RunnerSpec = {
    name: makeRunnerName(fx.owner.scaleSet, fx.owner.instanceId),
    runnerId: nextId++,
    jitConfig: fx.jit('exit 0'),
  };
  const exited = exitOf(b.events(sig()), s.name);
  const handle = await b.start(s, sig());
  return { handle, exit: await exited };
}

/** The [dedalus] sizes of the one scale set a shape of `cpu`/`ram`/`disk` makes. */
async function shapeSizes(cpu: number, ram: number, disk: number) {
  const { scaleSets } = await load(
    `url = "https://github.com/my-org"
name = "cloud"
backend = "dedalus"
[dedalus]
api-key = "env:DEDALUS_API_KEY"
[[shape]]
name = "cloud-build"
cpu = ${cpu}
ram = ${ram}
disk = ${disk}
`,
    { env: { RUNNER_TOKEN: 'ghp_x', DEDALUS_API_KEY: 'dsk_x' } },
  );
  const d = scaleSets[0]?.dedalus;
  if (!d) throw new Error('no scale set');
  return { vcpu: d.vcpu, memoryMib: d.memoryMib, storageGib: d.storageGib };
}

describe('dedalus backend: job shapes', () => {
  it("creates each machine at its shape's size; a pooled machine of another size is replaced, never used", async () => {
    const fx = await dedalusFixture();
    const small = await shapeSizes(2, 4, 20);
    expect(small).toEqual({ vcpu: 2, memoryMib: 4096, storageGib: 20 });
    const b = fx.backend(small);
    const first = await runJob(fx, b);
    expect(first.exit.exitCode).toBe(0);
    const id = first.handle.resourceId;
    expect(fx.fake.machine(id)).toMatchObject({ vcpu: 2, memoryMib: 4096, storageGib: 20 });
    await fx.fake.waitFor(() => fx.fake.machine(id)?.phase === 'sleeping', { what: `${id} asleep` });
    await b.close();

    // The shape grows under the same name: the next daemon finds the small machine in its state file.
    const big = await shapeSizes(4, 8, 40);
    const next = fx.backend(big);
    await next.prepare(sig());
    await fx.fake.waitFor(
      () => fx.fake.machine(id) === undefined || fx.fake.machine(id)?.phase === 'destroyed',
      {
        what: 'the machine of the old size deleted',
      },
    );
    const second = await runJob(fx, next);
    expect(second.handle.resourceId).not.toBe(id);
    expect(second.handle.tier).toBe('cold');
    expect(fx.fake.machine(second.handle.resourceId)).toMatchObject({
      vcpu: 4,
      memoryMib: 8192,
      storageGib: 40,
    });
  });
});

describe("dedalus backend: the account's quota (job shapes share it)", () => {
  it('never has more vCPUs awake than quota-vcpu across the sets of one account; a sleeping machine frees its share', async () => {
    const fx = await dedalusFixture();
    const size = { vcpu: 2, memoryMib: 2048, quotaVcpu: 4 };
    const setOf = (scaleSet: string) => ({ owner: { instanceId: fx.owner.instanceId, scaleSet } });
    const a = fx.backend(size, setOf('cloud-a'));
    const b = fx.backend(size, setOf('cloud-b'));
    // One budget, named by the account (its key hashed), the same for both sets.
    expect(a.budgets()).toHaveLength(1);
    expect(a.budgets()[0]).toMatch(/^dedalus:[0-9a-f]{16}$/);
    expect(b.budgets()).toEqual(a.budgets());
    const job = (set: string): RunnerSpec => ({
      name: makeRunnerName(set, fx.owner.instanceId),
      runnerId: nextId++,
      jitConfig: fx.jit('sleep 120'),
    });

    const first = job('cloud-a');
    await a.start(first, sig());
    await b.start(job('cloud-b'), sig());
    expect(a.hasRoom()).toBe(false);
    const refused = await a.start(job('cloud-a'), sig()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BackendCapacityError);
    expect((refused as BackendCapacityError).limit).toBe('budget');
    expect((refused as Error).message).toMatch(/vCPUs 4\/4 awake, 2 more asked \(dedalus\.quota-vcpu\)/);
    // No machine was made (or woken) for the refused start.
    expect(fx.fake.machines()).toHaveLength(2);

    // The first job's machine goes to sleep after it: its share is free, and it is the one woken next.
    await a.remove(first.name, sig());
    const firstMachine = await fx.fake.waitFor(() => fx.fake.machines().find((m) => m.phase === 'sleeping'), {
      what: "the first job's machine asleep",
    });
    await pollUntil(() => a.hasRoom() || undefined, { timeout: 20_000, what: 'room in the quota again' });
    const again = await a.start(job('cloud-a'), sig());
    expect(again.resourceId).toBe(firstMachine?.id);
    expect(fx.fake.machines()).toHaveLength(2);
  });
});
