import { describe, expect, it } from 'vitest';
import { BASE, load, problems } from './helpers.js';

/**
 * The budgets job shapes share beyond Docker's hosts (issue 16): the Mac's CPUs and memory for Tart
 * (`[tart] host-cpu`, `host-memory`) and an account's quota of awake vCPUs and memory for Dedalus
 * (`[dedalus] quota-vcpu`, `quota-memory-mib`). A size that could never fit is a config error.
 */
const TART = `${BASE}backend = "tart"
runner-image = "ghcr.io/cirruslabs/macos-sequoia-xcode:latest"
`;
const DEDALUS = `${BASE}backend = "dedalus"
`;
const env = { RUNNER_TOKEN: 'ghp_x', DEDALUS_API_KEY: 'dsk_x' };

describe('[tart] host-cpu and host-memory', () => {
  it('resolve in CPUs and MiB, 0 (no cap) by default', async () => {
    const plain = await load(TART);
    expect(plain.scaleSets[0]?.tart).toMatchObject({ hostCpu: 0, hostMemory: 0 });
    const { scaleSets } = await load(`${TART}[tart]
host-cpu = 10
host-memory = "32g"
cpu = 4
memory = "8g"
`);
    expect(scaleSets[0]?.tart).toMatchObject({ hostCpu: 10, hostMemory: 32 * 1024 });
  });

  it("need each VM's size to count, and refuse a VM larger than the Mac's budget", async () => {
    expect(
      await problems(`${TART}[tart]
host-cpu = 8
memory = 4096
`),
    ).toEqual([
      "config.toml: tart.cpu: expected the VM's CPUs when tart.host-cpu is set (the budget counts each VM's size; 0 keeps the image's, which it cannot count), got 0",
    ]);
    expect(
      await problems(`${TART}[tart]
host-memory = 8192
cpu = 4
memory = 16384
`),
    ).toEqual([
      'config.toml: tart.memory: expected at most 8192 (tart.host-memory: no VM of this size could ever run), got 16384',
    ]);
  });

  it('refuse a shape larger than the budget, and differing budgets between Tart scale sets', async () => {
    expect(
      await problems(`${TART}[tart]
host-cpu = 8
[[shape]]
cpu = 12
ram = 8
`),
    ).toEqual([
      'config.toml: shape[0].cpu: expected at most 8 (tart.host-cpu: no VM of this shape could ever run), got 12',
    ]);
    expect(
      await problems(`url = "https://github.com/my-org"
backend = "tart"
runner-image = "ghcr.io/cirruslabs/macos-sequoia-xcode:latest"
[tart]
cpu = 4
memory = 4096
[[scaleset]]
name = "a"
tart.host-cpu = 8
[[scaleset]]
name = "b"
tart.host-cpu = 12
`),
    ).toEqual([
      'config.toml: scaleset[1].tart.host-cpu: expected the same value in every Tart scale set (it is one budget for the Mac), got 12 here and 8 in scaleset[0]',
    ]);
  });
});

describe('[dedalus] quota-vcpu and quota-memory-mib', () => {
  it('resolve, 0 (no quota) by default', async () => {
    expect((await load(DEDALUS, { env })).scaleSets[0]?.dedalus).toMatchObject({
      quotaVcpu: 0,
      quotaMemoryMib: 0,
    });
    const { scaleSets } = await load(
      `${DEDALUS}[dedalus]
quota-vcpu = 16
quota-memory-mib = 65536
`,
      { env },
    );
    expect(scaleSets[0]?.dedalus).toMatchObject({ quotaVcpu: 16, quotaMemoryMib: 65536 });
  });

  it('refuse a machine or a shape that could never wake under the quota, and a warm tier that never fits', async () => {
    expect(
      await problems(
        `${DEDALUS}[dedalus]
quota-vcpu = 4
vcpu = 8
`,
        { env },
      ),
    ).toEqual([
      'config.toml: dedalus.vcpu: expected at most 4 (dedalus.quota-vcpu: no machine of this size could ever wake), got 8',
    ]);
    expect(
      await problems(
        `${DEDALUS}[dedalus]
quota-memory-mib = 16384
[[shape]]
cpu = 2
ram = 32
`,
        { env },
      ),
    ).toEqual([
      'config.toml: shape[0].ram: expected at most 16 (dedalus.quota-memory-mib is 16384: no machine of this shape could ever wake), got 32',
    ]);
    expect(
      await problems(
        `${DEDALUS}[dedalus]
quota-vcpu = 4
vcpu = 2
warm = 1
[[dedalus.schedule]]
days = "mon-fri"
hours = "08:00-18:00"
warm = 3
`,
        { env },
      ),
    ).toEqual([
      'config.toml: dedalus.warm: expected at most 2 warm machines, in every schedule window too (3 × 2 exceeds dedalus.quota-vcpu = 4), got 3',
    ]);
  });

  it('must agree between scale sets on one account; sets on another account are not compared', async () => {
    const sets = (other: string) => `url = "https://github.com/my-org"
backend = "dedalus"
[[scaleset]]
name = "a"
dedalus.quota-vcpu = 8
[[scaleset]]
name = "b"
dedalus.quota-vcpu = 16
${other}
`;
    expect(await problems(sets(''), { env })).toEqual([
      'config.toml: scaleset[1].dedalus.quota-vcpu: expected the same value in every Dedalus scale set on one account (it is one quota), got 16 here and 8 in scaleset[0]',
    ]);
    const apart = await load(sets('dedalus.api-key = "env:OTHER_DEDALUS_KEY"'), {
      env: { ...env, OTHER_DEDALUS_KEY: 'dsk_y' },
    });
    expect(apart.scaleSets.map((s) => s.dedalus?.quotaVcpu)).toEqual([8, 16]);
  });
});
