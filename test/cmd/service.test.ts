import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/runtime-flags.js';
import { systemdVerify } from '../service/systemd-verify.js';
import { cliBundle, node24, runCli } from './support/built-cli.js';

describe('runner service (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-svc-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('install --dry-run prints a unit for the npm install that systemd-analyze accepts', async () => {
    const config = join(dir, 'config.toml');
    await writeFile(config, 'backend = "docker"\ndrain-timeout = "2m"\n');
    const r = await runCli(['service', 'install', '--dry-run', '--config-path', config]);
    expect(r.code).toBe(0);
    // Not a single binary: the unit runs the script with the node that runs it now, and runner's V8 flags.
    expect(r.stdout).toContain(
      `\nExecStart=${node24} ${NODE_FLAGS.join(' ')} ${await cliBundle()} run --config ${config}\n`,
    );
    expect(r.stdout).toContain('\nAfter=network-online.target docker.service\n');
    expect(r.stdout).toContain('\nTimeoutStopSec=150\n');
    expect(r.stderr).toContain('would write /etc/systemd/system/runner.service');
    expect(await systemdVerify(r.stdout)).toEqual({ code: 0, output: '' });
    expect(existsSync('/etc/systemd/system/runner.service')).toBe(false);
  });

  it('install --dry-run --user --binary-path renders the user unit for that binary', async () => {
    const r = await runCli(['service', 'install', '--dry-run', '--user', '--binary-path', node24]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ExecStart=${node24} run --config /\\S+/runner/config.toml$`, 'm'));
    expect(r.stdout).toContain('WantedBy=default.target');
    expect(await systemdVerify(r.stdout)).toEqual({ code: 0, output: '' });
  });

  it('a missing --binary-path is an error that says what to pass', async () => {
    const r = await runCli(['service', 'install', '--dry-run', '--binary-path', join(dir, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: --binary-path .*nope does not exist; pass the path of the runner binary/,
    );
    expect(r.stdout).toBe('');
  });

  it('controlling a service that is not installed fails with the install command', async () => {
    const r = await runCli(['service', 'stop', '--user'], {
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: '' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `no runner service is installed at ${dir}/.config/systemd/user/runner.service`,
    );
    expect(r.stderr).toContain('runner service install --user');
  });

  it('logs rejects a bad line count', async () => {
    const r = await runCli(['service', 'logs', '-n', 'ten']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('expected a whole number');
  });

  it('every subcommand has --help with examples', async () => {
    for (const sub of ['install', 'uninstall', 'start', 'stop', 'restart', 'status', 'logs']) {
      const r = await runCli(['service', sub, '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toContain('Examples:');
      expect(r.stdout, sub).toContain('--user');
    }
  });
});
