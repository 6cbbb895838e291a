import { describe, expect, it } from 'vitest';
import { defaultStateDir } from '../../src/config/index.js';
import { BASE, load, loadSet } from './helpers.js';

describe('defaults', () => {
  it('fills every key a minimal file leaves out', async () => {
    const config = await load(BASE);
    expect(config).toMatchObject({
      file: 'config.toml',
      logLevel: 'info',
      logFormat: 'text',
      healthHost: '127.0.0.1',
      healthPort: 8080,
      stateDir: '/home/ci/.local/state/runner',
      drainTimeout: 30 * 60_000,
      deleteScaleSetOnExit: false,
    });
    expect(config.healthToken).toBeUndefined();
    const set = config.scaleSets[0];
    expect(set).toMatchObject({
      index: 0,
      url: 'https://github.com/my-org',
      name: 'linux',
      runnerGroup: 'default',
      labels: ['linux'],
      minRunners: 0,
      maxRunners: 10,
      backend: 'docker',
      runnerImage: 'ghcr.io/actions/actions-runner:latest',
      idleTimeout: 3_600_000,
      reconcileInterval: 30_000,
      startConcurrency: 8,
    });
  });

  it('gives docker safe defaults: no socket mount, no limits, the stock run.sh', async () => {
    const { docker } = await loadSet(BASE);
    expect(docker).toEqual({
      hosts: [{ name: 'default', url: '' }],
      network: '',
      dind: false,
      sharedVolume: '',
      sharedVolumeName: '',
      memory: 0,
      cpus: 0,
      platform: '',
      pullPolicy: 'if-not-present',
      env: {},
      mounts: [],
      command: ['/home/runner/run.sh'],
      user: '',
      buildxCleanup: true,
    });
  });

  it('gives tart and dedalus the documented defaults', async () => {
    const { tart, dedalus } = await loadSet(BASE);
    expect(tart).toEqual({
      home: '',
      runnerDir: '/Users/admin/actions-runner',
      poolSize: 0,
      cpu: 0,
      memory: 0,
      hostCpu: 0,
      hostMemory: 0,
      maxVms: 2,
      bootTimeout: 120_000,
      pullPolicy: 'if-not-present',
      pruneInterval: 86_400_000,
      pruneMaxAge: 7 * 86_400_000,
      pruneSpaceBudget: 0,
    });
    expect(dedalus).toMatchObject({
      baseUrl: 'https://dcs.dedaluslabs.ai',
      vcpu: 2,
      memoryMib: 4096,
      storageGib: 20,
      sleeping: 0,
      warm: 0,
      max: 5,
      quotaVcpu: 0,
      quotaMemoryMib: 0,
      schedule: [],
      provisionScript: '',
      runnerDir: '/home/machine/actions-runner',
      jobTimeout: 6 * 3_600_000,
      reuse: true,
      recycleAfterJobs: 0,
      recycleAfter: 0,
    });
    // Not a dedalus scale set: DEDALUS_API_KEY is neither needed nor read.
    expect(dedalus.apiKey).toBeUndefined();
  });

  it('uses no image for dedalus, which does not run one', async () => {
    const set = await loadSet(`${BASE}backend = "dedalus"\n`, {
      env: { RUNNER_TOKEN: 't', DEDALUS_API_KEY: 'dk_secretkey' },
    });
    expect(set.runnerImage).toBe('');
    expect(set.dedalus.apiKey?.reveal()).toBe('dk_secretkey');
  });

  it.each([
    ['root', { uid: 0, home: '/root' }, { XDG_STATE_HOME: '/x' }, '/var/lib/runner'],
    [
      'a user with XDG_STATE_HOME',
      { uid: 1000, home: '/home/a' },
      { XDG_STATE_HOME: '/xdg/state' },
      '/xdg/state/runner',
    ],
    ['a user without it', { uid: 1000, home: '/home/a' }, {}, '/home/a/.local/state/runner'],
    // The XDG spec says a relative value is invalid and must be ignored.
    [
      'a relative XDG_STATE_HOME',
      { uid: 1000, home: '/home/a' },
      { XDG_STATE_HOME: 'rel' },
      '/home/a/.local/state/runner',
    ],
  ])('puts state in the right place for %s', (_, who, env, expected) => {
    expect(defaultStateDir(env, who)).toBe(expected);
  });

  it('resolves state-dir from the file relative to the file, and ~ to the home directory', async () => {
    const nested = await load(`state-dir = "state"\n${BASE}`, {
      fileName: '/etc/runner/config.toml',
      env: { RUNNER_TOKEN: 't' },
    });
    expect(nested.stateDir).toBe('/etc/runner/state');
    const home = await load(`state-dir = "~/runner-state"\n${BASE}`);
    expect(home.stateDir).toBe('/home/ci/runner-state');
  });

  it('takes url, name and token from env and flags alone when there is no file', async () => {
    const config = await load('', {
      fileName: '',
      env: { RUNNER_URL: 'https://github.com/org/repo', RUNNER_TOKEN: 'ghp_envtoken1' },
      flags: { name: 'from-flag' },
    });
    expect(config.file).toBe('');
    expect(config.scaleSets[0]).toMatchObject({ url: 'https://github.com/org/repo', name: 'from-flag' });
  });
});
