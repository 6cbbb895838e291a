import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addConfigFlags, type ConfigFlags, FLAG_KEYS, flagOverrides } from '../../src/config/index.js';
import { BASE, load, loadSet, problems } from './helpers.js';

describe('precedence: flags > environment > file > defaults', () => {
  // Each row sets max-runners in some sources; the highest one present must win.
  it.each([
    { file: undefined, env: undefined, flag: undefined, want: 10 },
    { file: 3, env: undefined, flag: undefined, want: 3 },
    { file: 3, env: '4', flag: undefined, want: 4 },
    { file: 3, env: '4', flag: '5', want: 5 },
    { file: undefined, env: '4', flag: undefined, want: 4 },
    { file: undefined, env: undefined, flag: '5', want: 5 },
    { file: 3, env: undefined, flag: '5', want: 5 },
  ])('file=$file env=$env flag=$flag → $want', async ({ file, env, flag, want }) => {
    const text = `${file === undefined ? '' : `max-runners = ${file}\n`}${BASE}`;
    const set = await loadSet(text, {
      env: { RUNNER_TOKEN: 't', ...(env === undefined ? {} : { RUNNER_MAX_RUNNERS: env }) },
      flags: flag === undefined ? {} : { 'max-runners': flag },
    });
    expect(set.maxRunners).toBe(want);
  });

  it('applies to every kind of top-level key', async () => {
    const text = `${BASE}log-level = "warn"\nlabels = ["a"]\nhealth-port = 9000\nbackend = "docker"\n`;
    const config = await load(text, {
      env: {
        RUNNER_TOKEN: 't',
        RUNNER_LOG_LEVEL: 'debug',
        RUNNER_LABELS: 'x, y',
        RUNNER_HEALTH_PORT: '0',
        RUNNER_DELETE_SCALE_SET_ON_EXIT: 'true',
        RUNNER_IDLE_TIMEOUT: '0',
        RUNNER_RUNNER_IMAGE: 'ghcr.io/me/runner:1',
      },
      flags: { 'log-format': 'json', 'runner-group': 'ci', 'state-dir': '/srv/state' },
    });
    expect(config).toMatchObject({
      logLevel: 'debug',
      logFormat: 'json',
      healthPort: 0,
      deleteScaleSetOnExit: true,
      stateDir: '/srv/state',
    });
    expect(config.scaleSets[0]).toMatchObject({
      labels: ['x', 'y'],
      idleTimeout: 0,
      runnerGroup: 'ci',
      runnerImage: 'ghcr.io/me/runner:1',
    });
  });

  it('treats an empty variable as unset', async () => {
    const set = await loadSet(`max-runners = 3\n${BASE}`, {
      env: { RUNNER_TOKEN: 't', RUNNER_MAX_RUNNERS: '' },
    });
    expect(set.maxRunners).toBe(3);
  });

  it('lets a [[scaleset]] keep its own value over env and flags, which are top-level values', async () => {
    const text = `${BASE}[[scaleset]]\nname = "own"\nmax-runners = 2\n[[scaleset]]\nname = "inherits"\n`;
    const config = await load(text, {
      env: { RUNNER_TOKEN: 't', RUNNER_MAX_RUNNERS: '4' },
      flags: { 'max-runners': '6' },
    });
    expect(config.scaleSets.map((s) => [s.name, s.maxRunners])).toEqual([
      ['own', 2],
      ['inherits', 6],
    ]);
  });

  it('reports a bad override under the variable or flag that carried it', async () => {
    const lines = await problems(BASE, {
      env: { RUNNER_TOKEN: 't', RUNNER_MAX_RUNNERS: 'lots', RUNNER_DELETE_SCALE_SET_ON_EXIT: 'maybe' },
      flags: { 'health-port': '70000', backend: 'podman' },
    });
    expect(lines).toEqual([
      'env RUNNER_DELETE_SCALE_SET_ON_EXIT: expected true or false, got "maybe"',
      'env RUNNER_MAX_RUNNERS: expected an integer from 1 to 10000, got "lots"',
      '--health-port: expected an integer from 0 to 65535, got 70000',
      '--backend: expected one of "docker", "tart", "dedalus", got "podman"',
    ]);
  });

  it('points a check across keys at the source of the offending value', async () => {
    const lines = await problems(`max-runners = 3\n${BASE}`, {
      env: { RUNNER_TOKEN: 't' },
      flags: { 'min-runners': '5' },
    });
    expect(lines).toEqual(['--min-runners: expected an integer ≤ max-runners (3), got 5']);
  });
});

describe('token', () => {
  it('reads env:VAR from the environment', async () => {
    const set = await loadSet(`token = "env:GH_PAT"\n${BASE}`, { env: { GH_PAT: 'ghp_fromvariable' } });
    expect(set.auth).toMatchObject({ kind: 'pat' });
    expect(set.auth.kind === 'pat' && set.auth.token.reveal()).toBe('ghp_fromvariable');
  });

  it('names the variable when env:VAR is unset', async () => {
    const lines = await problems(`token = "env:GH_PAT"\n${BASE}`, { env: {} });
    expect(lines).toEqual(['config.toml: token: environment variable GH_PAT is not set (from "env:GH_PAT")']);
  });

  it('falls back to RUNNER_TOKEN when neither token nor [github-app] is set', async () => {
    const set = await loadSet(BASE, { env: { RUNNER_TOKEN: 'ghp_fallback' } });
    expect(set.auth.kind === 'pat' && set.auth.token.reveal()).toBe('ghp_fallback');
  });

  it('lets RUNNER_TOKEN override a token in the file, and --token override both', async () => {
    const text = `token = "ghp_fromfile"\n${BASE}`;
    const fromEnv = await loadSet(text, { env: { RUNNER_TOKEN: 'ghp_fromenv' } });
    expect(fromEnv.auth.kind === 'pat' && fromEnv.auth.token.reveal()).toBe('ghp_fromenv');
    const fromFlag = await loadSet(text, {
      env: { RUNNER_TOKEN: 'ghp_fromenv' },
      flags: { token: 'ghp_fromflag' },
    });
    expect(fromFlag.auth.kind === 'pat' && fromFlag.auth.token.reveal()).toBe('ghp_fromflag');
  });

  it('says every way to provide credentials when there are none', async () => {
    const lines = await problems(BASE, { env: {} });
    expect(lines).toEqual([
      'config.toml: token: expected a token (or "env:VAR"), a [github-app] table, or RUNNER_TOKEN in the environment, got none of them',
    ]);
  });

  it('never shows a secret value in a message', async () => {
    const lines = await problems(`token = 123456789\n${BASE}`, { env: {} });
    expect(lines).toEqual([
      'config.toml: token: expected a non-empty string, or "env:VAR" to read it from the environment, got a number (value hidden)',
    ]);
  });
});

describe('flags', () => {
  function parse(argv: string[]): { config?: string; flags: ConfigFlags } {
    const cmd = addConfigFlags(new Command('run').exitOverride());
    cmd.parse(argv, { from: 'user' });
    const opts = cmd.opts<Record<string, unknown>>();
    return { config: opts.config as string | undefined, flags: flagOverrides(opts) };
  }

  it('defines --config and one flag per overridable key', () => {
    const cmd = addConfigFlags(new Command('run'));
    const longs = cmd.options.map((o) => o.long);
    expect(longs).toEqual(['--config', ...FLAG_KEYS.map((k) => `--${k}`)]);
  });

  it('turns parsed options into overrides keyed by config key', async () => {
    const { config, flags } = parse([
      '-c',
      '/etc/runner/other.toml',
      '--max-runners',
      '7',
      '--labels',
      'gpu,linux',
      '--runner-image',
      'img:1',
      '--health-host',
      '0.0.0.0',
    ]);
    expect(config).toBe('/etc/runner/other.toml');
    expect(flags).toEqual({
      'max-runners': '7',
      labels: 'gpu,linux',
      'runner-image': 'img:1',
      'health-host': '0.0.0.0',
    });
    const loaded = await load(BASE, { flags });
    expect(loaded.healthHost).toBe('0.0.0.0');
    expect(loaded.scaleSets[0]).toMatchObject({
      maxRunners: 7,
      labels: ['gpu', 'linux'],
      runnerImage: 'img:1',
    });
  });
});
