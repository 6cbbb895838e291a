import { describe, expect, it } from 'vitest';
import { BASE, load, problems, SHAPES_EXAMPLE } from './helpers.js';

/** The issue's own example (issue 16), on the default Docker backend. */
const EXAMPLE = `${BASE}${SHAPES_EXAMPLE}`;

describe('job shapes ([[shape]], [[scaleset.shape]])', () => {
  it('make one scale set per shape, named and labelled by its size, each container sized by it', async () => {
    const { scaleSets } = await load(EXAMPLE);
    expect(scaleSets.map((s) => [s.name, s.labels, s.minRunners, s.maxRunners])).toEqual([
      ['linux-cpu2-ram4', ['linux', 'cpu=2', 'ram=4', 'ubuntu-latest-2core'], 1, 10],
      ['linux-cpu8-ram32-arm64-full', ['linux', 'cpu=8', 'ram=32', 'arch=arm64', 'image=full'], 0, 4],
    ]);
    const [small, big] = scaleSets;
    expect(small?.docker).toMatchObject({ cpus: 2, memory: 4 * 1024 ** 3, platform: '' });
    expect(small?.runnerImage).toBe('ghcr.io/actions/actions-runner:latest');
    expect(big?.docker).toMatchObject({ cpus: 8, memory: 32 * 1024 ** 3, platform: 'linux/arm64' });
    expect(big?.runnerImage).toBe('ghcr.io/acme/runner-full:2');
    expect(small?.shape).toEqual({ base: 'linux', index: 0, cpu: 2, ram: 4 });
    expect(big?.shape).toEqual({ base: 'linux', index: 1, cpu: 8, ram: 32, arch: 'arm64', image: 'full' });
  });

  it('size Tart VMs (cpu, memory in MiB) and Dedalus machines (vcpu, memory-mib, storage-gib)', async () => {
    const { scaleSets } = await load(
      `${BASE}
[[scaleset]]
name = "mac"
backend = "tart"
runner-image = "ghcr.io/cirruslabs/macos-sequoia-xcode:latest"
[[scaleset.shape]]
cpu = 4
ram = 8

[[scaleset]]
name = "cloud"
backend = "dedalus"
[dedalus]
api-key = "env:DEDALUS_API_KEY"
[[scaleset.shape]]
cpu = 2
ram = 4
disk = 40
name = "cloud-small"
`,
      { env: { RUNNER_TOKEN: 'ghp_x', DEDALUS_API_KEY: 'dsk_x' } },
    );
    expect(scaleSets.map((s) => s.name)).toEqual(['mac-cpu4-ram8', 'cloud-small']);
    expect(scaleSets[0]?.tart).toMatchObject({ cpu: 4, memory: 8 * 1024 });
    expect(scaleSets[1]?.dedalus).toMatchObject({ vcpu: 2, memoryMib: 4096, storageGib: 40 });
    expect(scaleSets[1]?.labels).toEqual(['cloud', 'cpu=2', 'ram=4', 'disk=40']);
  });

  it('top-level shapes and image aliases are inherited by every [[scaleset]] that has none of its own', async () => {
    const { scaleSets } = await load(`url = "https://github.com/my-org"
[images]
full = "ghcr.io/acme/full:1"
[[shape]]
cpu = 1
ram = 2
[[scaleset]]
name = "a"
[[scaleset]]
name = "b"
[scaleset.images]
full = "ghcr.io/acme/full:2"
[[scaleset.shape]]
cpu = 4
ram = 16
image = "full"
`);
    expect(scaleSets.map((s) => [s.name, s.runnerImage])).toEqual([
      ['a-cpu1-ram2', 'ghcr.io/actions/actions-runner:latest'],
      ['b-cpu4-ram16-full', 'ghcr.io/acme/full:2'],
    ]);
  });

  it('a set without shapes is unchanged', async () => {
    const { scaleSets } = await load(BASE);
    expect(scaleSets.map((s) => [s.name, s.labels, s.shape])).toEqual([['linux', ['linux'], undefined]]);
  });

  it('each mistake names the shape key and what it expects, and nothing is resolved', async () => {
    const lines = await problems(`${BASE}
[images]
full = "Not An Image!"
[[shape]]
cpu = 2
ram = 4
disk = 40
min-runners = 20
[[shape]]
cpu = 8
ram = 32
image = "fulll"
[[shape]]
cpu = 8
ram = 32
image = "full"
`);
    expect(lines).toEqual([
      "config.toml: shape[0].disk: expected no disk for docker (a container's disk is its engine's), got 40",
      "config.toml: shape[0].min-runners: expected an integer ≤ the scale set's max-runners (10), got 20",
      'config.toml: shape[1].image: expected one of "full" from [scaleset.images] (or [images] at the top level), got "fulll"',
      expect.stringMatching(
        /^config\.toml: images\.full: expected an image reference .*got "Not An Image!"$/,
      ),
    ]);
  });

  it('a shape the schema refuses is reported alone (the list is dropped until it reads)', async () => {
    const lines = await problems(`${BASE}
[[shape]]
cpu = 2
ram = 4
[[shape]]
cpu = 0
ram = "4g"
`);
    expect(lines).toEqual([
      'config.toml: shape[1].cpu: expected an integer from 1 to 256, got 0',
      'config.toml: shape[1].ram: expected an integer from 1 to 1024, got "4g"',
    ]);
  });

  it('two shapes that would share a name (or its 24-character slug) are refused, pointing at the second', async () => {
    const lines = await problems(`url = "https://github.com/my-org"
name = "linux-x64-large"
[[shape]]
cpu = 2
ram = 4
[[shape]]
cpu = 2
ram = 8
[[shape]]
cpu = 2
ram = 8
`);
    expect(lines).toEqual([
      'config.toml: shape[1].name: expected a name no other scale set uses, got "linux-x64-large-cpu2-ram8", as a shape "linux-x64-large-cpu2-ram4" (both become "linux-x64-large-cpu2-ram" in runner and container names, which keep only the first 24 lower-case letters, digits and dashes); give the shape a name of its own',
      'config.toml: shape[2].name: expected a name no other scale set uses, got "linux-x64-large-cpu2-ram8", as a shape "linux-x64-large-cpu2-ram4" (both become "linux-x64-large-cpu2-ram" in runner and container names, which keep only the first 24 lower-case letters, digits and dashes); give the shape a name of its own',
    ]);
    // Named, they are fine.
    const { scaleSets } = await load(`url = "https://github.com/my-org"
name = "linux-x64-large"
[[shape]]
cpu = 2
ram = 4
name = "large-2c"
[[shape]]
cpu = 2
ram = 8
name = "large-2c-8g"
`);
    expect(scaleSets.map((s) => s.name)).toEqual(['large-2c', 'large-2c-8g']);
  });

  it('a shape no Docker host budget could ever take is refused; base limits are not required with shapes', async () => {
    const hosts = `[[docker.hosts]]
url = "tcp://build-1:2375"
cpus = 8
memory = "32g"
[[docker.hosts]]
url = "tcp://build-2:2375"
cpus = 16
memory = "16g"
`;
    const lines = await problems(`${BASE}${hosts}
[[shape]]
cpu = 32
ram = 4
[[shape]]
cpu = 2
ram = 64
`);
    expect(lines).toEqual([
      'config.toml: shape[0].cpu: expected at most 16 (16 CPUs is the largest budget of [[docker.hosts]]: no host could ever take a runner of this shape), got 32',
      'config.toml: shape[1].ram: expected at most 32 (32 GiB is the largest budget of [[docker.hosts]]: no host could ever take a runner of this shape), got 64',
    ]);
    // Without shapes the same hosts need per-runner limits; with them each shape is the limit.
    const { scaleSets } = await load(`${BASE}${hosts}
[[shape]]
cpu = 16
ram = 4
`);
    expect(scaleSets[0]?.docker).toMatchObject({ cpus: 16, memory: 4 * 1024 ** 3 });
  });

  it('tart refuses an amd64 shape and a disk size, naming the key', async () => {
    const lines = await problems(`${BASE}backend = "tart"
runner-image = "ghcr.io/cirruslabs/macos-sequoia-xcode:latest"
[[shape]]
cpu = 4
ram = 8
arch = "amd64"
disk = 100
`);
    expect(lines).toEqual([
      'config.toml: shape[0].arch: expected "arm64" or nothing for tart (macOS VMs on Apple silicon), got "amd64"',
    ]);
  });
});
