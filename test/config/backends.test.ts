import { describe, expect, it } from 'vitest';
import { BASE, loadSet, problems } from './helpers.js';

describe('[docker]', () => {
  it('reads sizes, CPUs and the other keys into the resolved shape', async () => {
    const { docker } = await loadSet(`${BASE}[docker]
host = "ssh://ci@build-host"
memory = "4g"
cpus = 1.5
platform = "linux/arm64"
pull-policy = "always"
command = ["/bin/sh", "-c", "/home/runner/run.sh"]
user = "runner"
buildx-cleanup = false
shared-volume = "/cache"
shared-volume-name = "team-cache"
`);
    expect(docker).toMatchObject({
      hosts: [{ name: 'build-host', url: 'ssh://ci@build-host' }],
      memory: 4 * 1024 ** 3,
      cpus: 1.5,
      platform: 'linux/arm64',
      pullPolicy: 'always',
      command: ['/bin/sh', '-c', '/home/runner/run.sh'],
      user: 'runner',
      buildxCleanup: false,
      sharedVolume: '/cache',
      sharedVolumeName: 'team-cache',
    });
  });

  it('catches runscaler-style memory in MB, which would be a few bytes here', async () => {
    const [line] = await problems(`${BASE}[docker]\nmemory = 4096\n`);
    expect(line).toBe(
      'config.toml: docker.memory: expected a size like "512m", "8g" or "4GiB", or a number of bytes, 0 or from 6MiB to 1TiB (runscaler counted MB: write "4096m"), got 4096',
    );
  });

  it.each([
    ['host = "/var/run/docker.sock"', 'docker.host'],
    ['host = "http://x"', 'docker.host'],
    ['platform = "amd64"', 'docker.platform'],
    ['shared-volume = "cache"', 'docker.shared-volume'],
    ['pull-policy = "sometimes"', 'docker.pull-policy'],
    ['command = []', 'docker.command'],
    ['cpus = -1', 'docker.cpus'],
  ])('rejects %s', async (line, key) => {
    const lines = await problems(`${BASE}[docker]\n${line}\n`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^config\\.toml: ${key.replace('.', '\\.')}: expected `));
  });

  it('resolves registry credentials, with the password from the environment', async () => {
    const { docker } = await loadSet(
      `${BASE}[docker.registry-auth]\nusername = "bot"\npassword = "env:REG_PW"\nserver-address = "ghcr.io"\n`,
      { env: { RUNNER_TOKEN: 't', REG_PW: 'registry-password' } },
    );
    expect(docker.registryAuth?.username).toBe('bot');
    expect(docker.registryAuth?.serverAddress).toBe('ghcr.io');
    expect(docker.registryAuth?.password.reveal()).toBe('registry-password');
    expect(JSON.stringify(docker)).not.toContain('registry-password');
  });

  it('requires user and password in registry credentials', async () => {
    expect(await problems(`${BASE}[docker.registry-auth]\nserver-address = "ghcr.io"\n`)).toEqual([
      'config.toml: docker.registry-auth.username: expected the registry user name, got nothing',
      'config.toml: docker.registry-auth.password: expected the registry password or "env:VAR", got nothing',
    ]);
  });

  it('reads mounts, defaulting to read-write bind mounts, with relative sources from the config directory', async () => {
    const { docker } = await loadSet(
      `${BASE}[[docker.mounts]]\nsource = "cache"\ntarget = "/cache"\n[[docker.mounts]]\ntype = "volume"\nsource = "npm"\ntarget = "/home/runner/.npm"\nread-only = true\n[[docker.mounts]]\ntype = "tmpfs"\ntarget = "/scratch"\n`,
      { fileName: '/etc/runner/config.toml' },
    );
    expect(docker.mounts).toEqual([
      { type: 'bind', source: '/etc/runner/cache', target: '/cache', readOnly: false },
      { type: 'volume', source: 'npm', target: '/home/runner/.npm', readOnly: true },
      { type: 'tmpfs', source: '', target: '/scratch', readOnly: false },
    ]);
  });

  it('checks each mount', async () => {
    expect(
      await problems(
        `${BASE}[[docker.mounts]]\ntarget = "/a"\n[[docker.mounts]]\ntype = "tmpfs"\nsource = "/x"\ntarget = "/b"\n[[docker.mounts]]\nsource = "/y"\ntarget = "rel"\n`,
      ),
    ).toEqual([
      'config.toml: docker.mounts[2].target: expected an absolute path (inside the container), got "rel"',
    ]);
    expect(
      await problems(
        `${BASE}[[docker.mounts]]\ntarget = "/a"\n[[docker.mounts]]\ntype = "tmpfs"\nsource = "/x"\ntarget = "/b"\n`,
      ),
    ).toEqual([
      'config.toml: docker.mounts[0].source: expected a host path for a bind mount, got nothing',
      'config.toml: docker.mounts[1].source: expected no source for a tmpfs mount, got "/x"',
    ]);
  });

  it('passes [docker.env] through and refuses to let it set the JIT config', async () => {
    const { docker } = await loadSet(`${BASE}[docker.env]\nHTTP_PROXY = "http://proxy:3128"\n`);
    expect(docker.env).toEqual({ HTTP_PROXY: 'http://proxy:3128' });
    expect(await problems(`${BASE}[docker.env]\nACTIONS_RUNNER_INPUT_JITCONFIG = "x"\nN = 1\n`)).toEqual([
      'config.toml: docker.env.ACTIONS_RUNNER_INPUT_JITCONFIG: expected an environment variable name (ACTIONS_RUNNER_INPUT_JITCONFIG is set by runner), got "ACTIONS_RUNNER_INPUT_JITCONFIG"',
      'config.toml: docker.env.N: expected a string, got 1',
    ]);
  });
});

describe('[tart]', () => {
  const TART = `${BASE}backend = "tart"\n`;

  it('requires runner-image instead of silently using the Docker image, as runscaler did', async () => {
    expect(await problems(TART)).toEqual([
      'config.toml: runner-image: expected the Tart VM image to clone, e.g. "ghcr.io/cirruslabs/macos-sequoia-xcode:latest" (backend = "tart" has no default), got nothing',
    ]);
  });

  it('reads the table, memory in MiB or as a size', async () => {
    const set = await loadSet(`${TART}runner-image = "ghcr.io/cirruslabs/macos:latest"
[tart]
home = "~/tart"
pool-size = 1
cpu = 4
memory = "8g"
boot-timeout = "90s"
pull-policy = "never"
prune-interval = 0
prune-max-age = "30d"
prune-space-budget = "100g"
`);
    expect(set.runnerImage).toBe('ghcr.io/cirruslabs/macos:latest');
    expect(set.tart).toMatchObject({
      home: '/home/ci/tart',
      poolSize: 1,
      cpu: 4,
      memory: 8192,
      bootTimeout: 90_000,
      pullPolicy: 'never',
      pruneInterval: 0,
      pruneMaxAge: 30 * 86_400_000,
      pruneSpaceBudget: 100 * 1024 ** 3,
    });
  });

  it('rejects a pool that can never fit in max-vms', async () => {
    expect(await problems(`${TART}runner-image = "img"\n[tart]\npool-size = 3\n`)).toEqual([
      'config.toml: tart.pool-size: expected an integer ≤ tart.max-vms (2), got 3',
    ]);
  });
});

describe('[dedalus]', () => {
  const DEDALUS = `${BASE}backend = "dedalus"\n`;
  const ENV = { RUNNER_TOKEN: 't', DEDALUS_API_KEY: 'dk_0123456789' };

  it('reads tiers, schedule and machine settings', async () => {
    const { dedalus } = await loadSet(
      `${DEDALUS}[dedalus]
base-url = "https://dcs.example.test/"
vcpu = 1.25
memory-mib = 8192
sleeping = 3
warm = 1
max = 6
reuse = false
recycle-after-jobs = 50
recycle-after = "7d"
job-timeout = "2h"
provision-script = "scripts/provision.sh"
[[dedalus.schedule]]
days = "mon-fri"
hours = "08:00-18:00"
warm = 3
`,
      {
        env: ENV,
        fileName: '/etc/runner/config.toml',
        files: { '/etc/runner/scripts/provision.sh': '#!/bin/sh\n' },
      },
    );
    expect(dedalus).toMatchObject({
      baseUrl: 'https://dcs.example.test',
      vcpu: 1.25,
      memoryMib: 8192,
      sleeping: 3,
      warm: 1,
      max: 6,
      reuse: false,
      recycleAfterJobs: 50,
      recycleAfter: 7 * 86_400_000,
      jobTimeout: 7_200_000,
      provisionScript: '/etc/runner/scripts/provision.sh',
      schedule: [{ days: 'mon-fri', hours: '08:00-18:00', warm: 3 }],
    });
    expect(dedalus.apiKey?.reveal()).toBe('dk_0123456789');
  });

  it('rejects tiers larger than max', async () => {
    expect(await problems(`${DEDALUS}[dedalus]\nsleeping = 4\nwarm = 2\nmax = 5\n`, { env: ENV })).toEqual([
      'config.toml: dedalus.max: expected at least sleeping + warm (4 + 2), got 5',
    ]);
  });

  it('checks schedule windows for their own sizes and syntax', async () => {
    expect(
      await problems(
        `${DEDALUS}[[dedalus.schedule]]\ndays = "weekdays"\nhours = "8-18"\n[[dedalus.schedule]]\ndays = "sat"\nhours = "10:00-12:00"\nwarm = 6\n`,
        { env: ENV },
      ),
    ).toEqual([
      'config.toml: dedalus.schedule[0].days: expected days like "mon-fri", "sat,sun" or "daily", got "weekdays"',
      'config.toml: dedalus.schedule[0].hours: expected hours like "08:00-18:00", got "8-18"',
    ]);
    expect(
      await problems(`${DEDALUS}[[dedalus.schedule]]\ndays = "sat"\nhours = "10:00-12:00"\nwarm = 6\n`, {
        env: ENV,
      }),
    ).toEqual([
      'config.toml: dedalus.schedule[0]: expected sleeping + warm (0 + 6) ≤ dedalus.max (5), got 6',
    ]);
  });

  it('needs DEDALUS_API_KEY (the default api-key) only for a dedalus scale set', async () => {
    expect(await problems(DEDALUS, { env: { RUNNER_TOKEN: 't' } })).toEqual([
      'config.toml: dedalus.api-key: environment variable DEDALUS_API_KEY is not set (from "env:DEDALUS_API_KEY")',
    ]);
    await expect(loadSet(BASE, { env: { RUNNER_TOKEN: 't' } })).resolves.toMatchObject({ backend: 'docker' });
  });

  it('fails at start-up when the provision script cannot be read', async () => {
    expect(await problems(`${DEDALUS}[dedalus]\nprovision-script = "/nope.sh"\n`, { env: ENV })).toEqual([
      `config.toml: dedalus.provision-script: expected a readable file, got "/nope.sh" (ENOENT: no such file, open '/nope.sh')`,
    ]);
  });

  it('rejects vCPU counts off the quarter steps', async () => {
    expect(await problems(`${DEDALUS}[dedalus]\nvcpu = 1.1\n`, { env: ENV })).toEqual([
      'config.toml: dedalus.vcpu: expected a number of vCPUs > 0 in steps of 0.25, at most 256, got 1.1',
    ]);
  });
});
