import { describe, expect, it } from 'vitest';
import { load, problems } from './helpers.js';

const TOP = `
url = "https://github.com/my-org"
name = "top"
max-runners = 6
labels = ["shared"]
runner-group = "ci"

[docker]
memory = "8g"
dind = true
network = "ci-net"
shared-volume = "/shared"
[docker.env]
A = "1"
B = "2"

[tart]
pool-size = 1
`;

describe('[[scaleset]] inheritance', () => {
  it('inherits every top-level value, tables key by key', async () => {
    const config = await load(
      `${TOP}[[scaleset]]\nname = "a"\n[scaleset.docker]\ncpus = 1.5\n[scaleset.docker.env]\nB = "two"\nC = "3"\n`,
    );
    expect(config.scaleSets).toHaveLength(1);
    const a = config.scaleSets[0];
    expect(a).toMatchObject({
      index: 0,
      name: 'a',
      url: 'https://github.com/my-org',
      maxRunners: 6,
      labels: ['shared'],
      runnerGroup: 'ci',
    });
    expect(a?.docker).toMatchObject({
      memory: 8 * 1024 ** 3,
      dind: true,
      network: 'ci-net',
      cpus: 1.5,
      sharedVolume: '/shared',
    });
    expect(a?.docker.env).toEqual({ A: '1', B: 'two', C: '3' });
    expect(a?.tart.poolSize).toBe(1);
  });

  it('overrides back to 0, false and "" (an explicit value is never "unset")', async () => {
    const text = `${TOP}[[scaleset]]\nname = "zeroed"\nlabels = []\n[scaleset.docker]\nmemory = 0\ndind = false\nnetwork = ""\nshared-volume = ""\n[scaleset.tart]\npool-size = 0\n`;
    const [set] = (await load(text)).scaleSets;
    expect(set?.docker).toMatchObject({ memory: 0, dind: false, network: '', sharedVolume: '' });
    expect(set?.tart.poolSize).toBe(0);
    expect(set?.labels).toEqual([]);
  });

  it('defaults labels to each set’s own name when no level sets them', async () => {
    const text =
      'url = "https://github.com/o"\n[[scaleset]]\nname = "x"\n[[scaleset]]\nname = "y"\nlabels = ["gpu"]\n';
    const config = await load(text);
    expect(config.scaleSets.map((s) => s.labels)).toEqual([['x'], ['gpu']]);
  });

  it('replaces arrays whole rather than appending', async () => {
    const text = `${TOP}[[docker.mounts]]\ntarget = "/a"\nsource = "/srv/a"\n[[scaleset]]\nname = "s"\n[[scaleset.docker.mounts]]\ntype = "tmpfs"\ntarget = "/tmp/t"\n`;
    const [set] = (await load(text)).scaleSets;
    expect(set?.docker.mounts).toEqual([{ type: 'tmpfs', source: '', target: '/tmp/t', readOnly: false }]);
  });

  it('numbers sets in file order for messages', async () => {
    const text = `${TOP}[[scaleset]]\nname = "a"\n[[scaleset]]\nname = "b"\nmax-runners = 0\n`;
    expect(await problems(text)).toEqual([
      'config.toml: scaleset[1].max-runners: expected an integer from 1 to 10000, got 0',
    ]);
  });
});

describe('[[scaleset]] errors', () => {
  it('rejects daemon-wide keys inside a set as misplaced', async () => {
    const text = `${TOP}[[scaleset]]\nname = "a"\nlog-level = "debug"\nhealth-port = 1\ndrain-timeout = "1m"\n`;
    expect(await problems(text)).toEqual([
      'config.toml: scaleset[0].log-level: misplaced: log-level applies to the whole daemon, so it is only read at the top level, not in [[scaleset]]',
      'config.toml: scaleset[0].health-port: misplaced: health-port applies to the whole daemon, so it is only read at the top level, not in [[scaleset]]',
      'config.toml: scaleset[0].drain-timeout: misplaced: drain-timeout applies to the whole daemon, so it is only read at the top level, not in [[scaleset]]',
    ]);
  });

  it('rejects duplicate names, including the inherited top-level name', async () => {
    const text = `${TOP}[[scaleset]]\nname = "a"\n[[scaleset]]\nname = "a"\n[[scaleset]]\nmax-runners = 2\n[[scaleset]]\n`;
    expect(await problems(text)).toEqual([
      'config.toml: scaleset[1].name: expected a name no other scale set uses, got "a", as scaleset[0] "a"',
      'config.toml: scaleset[3].name: expected a name no other scale set uses, got "top", as scaleset[2] "top" (inherited from the top level)',
    ]);
  });

  it('rejects names that collide once made safe for runner and container names', async () => {
    const text = `${TOP}[[scaleset]]\nname = "Linux X64"\n[[scaleset]]\nname = "linux-x64"\n`;
    const [line] = await problems(text);
    expect(line).toContain(
      'config.toml: scaleset[1].name: expected a name no other scale set uses, got "linux-x64"',
    );
    expect(line).toContain('both become "linux-x64"');
  });

  it('asks each set for url and name when no level provides them', async () => {
    const text = '[[scaleset]]\nmax-runners = 1\n';
    expect(await problems(text)).toEqual([
      'config.toml: scaleset[0].url: expected the URL of an org, repo or enterprise, e.g. "https://github.com/my-org" or "https://github.com/my-org/my-repo", got nothing',
      'config.toml: scaleset[0].name: expected a scale set name (jobs use it in runs-on), got nothing',
    ]);
  });

  it('requires Tart sets to agree on the host-wide VM cap and fit their pools in it', async () => {
    const tartSet = (name: string, extra: string) =>
      `[[scaleset]]\nname = "${name}"\nbackend = "tart"\nrunner-image = "img"\n[scaleset.tart]\n${extra}\n`;
    const disagree = `url = "https://github.com/o"\n${tartSet('m1', 'max-vms = 2')}${tartSet('m2', 'max-vms = 3')}`;
    expect(await problems(disagree)).toEqual([
      'config.toml: scaleset[1].tart.max-vms: expected the same value in every Tart scale set (it is one budget for the Mac), got 3 here and 2 in scaleset[0]',
    ]);
    const pools = `url = "https://github.com/o"\n${tartSet('m1', 'pool-size = 1')}${tartSet('m2', 'pool-size = 2')}`;
    expect(await problems(pools)).toEqual([
      'config.toml: scaleset[1].tart.pool-size: expected the pools of all Tart scale sets to fit in tart.max-vms (2) together, got 3 in total',
    ]);
  });

  it('requires [[scaleset]] to be an array of tables', async () => {
    const lines = await problems('url = "https://github.com/o"\nname = "n"\nscaleset = 3\n');
    expect(lines).toEqual(['config.toml: scaleset: expected an array of tables ([[scaleset]]), got 3']);
  });
});
