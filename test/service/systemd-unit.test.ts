import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultServicePaths } from '../../src/service/paths.js';
import type { ServicePlan } from '../../src/service/plan.js';
import { planService } from '../../src/service/planner.js';
import { UnitValueError } from '../../src/service/systemd/encode.js';
import { renderSystemdUnit } from '../../src/service/systemd/runner-unit.js';
import { systemdVerify } from './systemd-verify.js';

/**
 * An executable that exists (systemd-analyze verify checks ExecStart) and is not under /tmp, wherever
 * the checkout is: a checkout under /tmp (CI clones there) would make the planner add its /tmp note.
 */
const node = '/usr/bin/env';

function plan(overrides: Partial<ServicePlan> = {}): ServicePlan {
  return {
    manager: 'systemd',
    scope: 'system',
    runnerVersion: '1.2.3',
    unitFile: '/etc/systemd/system/runner.service',
    label: 'runner',
    execStart: [node, '/opt/runner/dist/cmd/runner.js'],
    configPath: '/etc/runner/config.toml',
    envFile: '/etc/runner/runner.env',
    stateDir: '/var/lib/runner',
    writablePaths: [{ path: '/var/lib/runner' }, { path: '/etc/runner', optional: true }],
    backends: ['docker'],
    supplementaryGroups: [],
    environment: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    drainTimeoutMs: 600_000,
    privateTmp: true,
    ...overrides,
  };
}

/** `key=value` settings of one section, in order. */
function settings(unit: string, section: string): [string, string][] {
  const body = unit.split(/^\[/m).find((s) => s.startsWith(`${section}]`)) ?? '';
  return body
    .split('\n')
    .slice(1)
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

function setting(unit: string, section: string, key: string): string | undefined {
  return settings(unit, section).find(([k]) => k === key)?.[1];
}

describe('systemd unit', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner unit %test$ '));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('system unit with a dedicated user and the docker group passes systemd-analyze verify', async () => {
    // verify parses User=/SupplementaryGroups= but does not resolve them, so `runner` need not exist.
    const unit = renderSystemdUnit(plan({ serviceUser: 'runner', supplementaryGroups: ['docker'] }));
    expect(await systemdVerify(unit)).toEqual({ code: 0, output: '' });
    expect(setting(unit, 'Service', 'User')).toBe('runner');
    expect(setting(unit, 'Service', 'Group')).toBe('runner');
    expect(setting(unit, 'Service', 'SupplementaryGroups')).toBe('docker');
    expect(setting(unit, 'Service', 'CapabilityBoundingSet')).toBe('');
    expect(setting(unit, 'Unit', 'After')).toBe('network-online.target docker.service');
    expect(setting(unit, 'Unit', 'Wants')).toBe('network-online.target docker.service');
  });

  it('root fall-back: no User=, a comment says why, hardening still on', async () => {
    const unit = renderSystemdUnit(plan());
    expect(await systemdVerify(unit)).toEqual({ code: 0, output: '' });
    expect(setting(unit, 'Service', 'User')).toBeUndefined();
    expect(unit).toMatch(/# Runs as root: no "runner" user/);
    for (const [k, v] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'read-only'],
      ['PrivateTmp', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['LockPersonality', 'yes'],
      ['ReadWritePaths', '/var/lib/runner -/etc/runner'],
    ]) {
      expect(setting(unit, 'Service', k!), k).toBe(v);
    }
    // Node's JIT needs writable+executable memory; this option would kill it at start.
    expect(unit).not.toContain('MemoryDenyWriteExecute');
  });

  it('runs the daemon with its config, restarts on failure, and stops with time to drain', () => {
    const unit = renderSystemdUnit(plan({ drainTimeoutMs: 900_000 }));
    expect(setting(unit, 'Service', 'ExecStart')).toBe(
      `${node} /opt/runner/dist/cmd/runner.js run --config /etc/runner/config.toml`,
    );
    expect(setting(unit, 'Service', 'EnvironmentFile')).toBe('-/etc/runner/runner.env');
    expect(setting(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(setting(unit, 'Service', 'RestartSec')).toBe('5');
    expect(setting(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    expect(Number(setting(unit, 'Service', 'TimeoutStopSec'))).toBeGreaterThan(900);
    expect(setting(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
  });

  it('user unit: no docker.service, no namespace sandboxing, default.target', async () => {
    const unit = renderSystemdUnit(
      plan({
        scope: 'user',
        envFile: '/home/a/.config/runner/runner.env',
        writablePaths: [],
        stateDir: '/tmp',
      }),
    );
    expect(await systemdVerify(unit)).toEqual({ code: 0, output: '' });
    expect(setting(unit, 'Unit', 'After')).toBe('network-online.target');
    expect(setting(unit, 'Service', 'ProtectSystem')).toBeUndefined();
    expect(setting(unit, 'Service', 'ProtectHome')).toBeUndefined();
    expect(setting(unit, 'Service', 'NoNewPrivileges')).toBe('yes');
    expect(setting(unit, 'Install', 'WantedBy')).toBe('default.target');
  });

  it('quotes paths with spaces, % and $: systemd finds the executable at its exact path', async () => {
    // The executable must exist for verify, so link node into a directory with awkward characters.
    const exe = join(dir, 'run ner');
    await symlink(node, exe);
    const unit = renderSystemdUnit(
      plan({
        execStart: [exe],
        configPath: join(dir, 'my config$HOME%h.toml'),
        envFile: join(dir, 'secret env%i'),
        stateDir: join(dir, 'state dir'),
        writablePaths: [{ path: join(dir, 'state dir') }, { path: dir, optional: true }],
        environment: { PATH: `${dir}:/usr/bin`, TART_HOME: '/Volumes/VMs "fast"' },
      }),
    );
    expect(await systemdVerify(unit)).toEqual({ code: 0, output: '' });
    const execStart = setting(unit, 'Service', 'ExecStart')!;
    // The executable is not subject to $ expansion, its arguments are.
    expect(execStart.startsWith(`"${exe.replaceAll('%', '%%')}" run --config "`)).toBe(true);
    expect(execStart).toContain('my config$$HOME%%h.toml"');
    expect(setting(unit, 'Service', 'EnvironmentFile')).toBe(`-${dir.replaceAll('%', '%%')}/secret env%%i`);
    expect(setting(unit, 'Service', 'Environment')).toContain('"TART_HOME=/Volumes/VMs \\"fast\\""');
  });

  it('refuses values that would inject settings, and relative paths', () => {
    expect(() =>
      renderSystemdUnit(plan({ configPath: '/etc/runner/c.toml\nExecStartPre=/bin/rm -rf /' })),
    ).toThrow(UnitValueError);
    expect(() => renderSystemdUnit(plan({ execStart: ['runner'] }))).toThrow(/absolute path/);
    expect(() => renderSystemdUnit(plan({ serviceUser: 'root; rm' }))).toThrow(/user or group name/);
  });

  it('planned from a docker config with the runner user present: User=runner in the docker group', async () => {
    const { plan: p, notes } = planService({
      manager: 'systemd',
      scope: 'system',
      runnerVersion: '1.2.3',
      home: '/root',
      paths: defaultServicePaths('systemd', 'system', '/root', {}),
      execStart: [node],
      facts: { backends: ['docker'], drainTimeoutMs: 120_000 },
      serviceUserAvailable: true,
      dockerGroupExists: true,
      env: {},
    });
    expect(notes).toEqual([]);
    const unit = renderSystemdUnit(p);
    expect(setting(unit, 'Service', 'User')).toBe('runner');
    expect(setting(unit, 'Service', 'SupplementaryGroups')).toBe('docker');
    expect(setting(unit, 'Service', 'TimeoutStopSec')).toBe('150');
    expect(await systemdVerify(unit)).toEqual({ code: 0, output: '' });
  });

  it('no PrivateTmp when what the service runs or reads lives under /tmp, with a note; else PrivateTmp=yes', async () => {
    const planned = (execStart: string[], configPath?: string) =>
      planService({
        manager: 'systemd',
        scope: 'system',
        runnerVersion: '1.2.3',
        home: '/root',
        paths: defaultServicePaths('systemd', 'system', '/root', {}),
        ...(configPath ? { configPath } : {}),
        execStart,
        facts: { backends: ['docker'] },
        serviceUserAvailable: true,
        dockerGroupExists: true,
        env: {},
      });
    const inTmp = planned(['/usr/bin/node', '/tmp/runner-checkout/dist/cmd/runner.js']);
    const unit = renderSystemdUnit(inTmp.plan);
    expect(setting(unit, 'Service', 'PrivateTmp')).toBeUndefined();
    expect(setting(unit, 'Service', 'ProtectSystem')).toBe('strict');
    expect(inTmp.notes).toContain(
      '/tmp/runner-checkout/dist/cmd/runner.js is under /tmp: the unit leaves PrivateTmp off so the service can see it, but /tmp is emptied at reboot; move it for a service that lasts',
    );
    expect(await systemdVerify(unit)).toEqual({ code: 0, output: '' });

    const configInVarTmp = planned(['/usr/local/bin/runner'], '/var/tmp/runner/config.toml');
    expect(setting(renderSystemdUnit(configInVarTmp.plan), 'Service', 'PrivateTmp')).toBeUndefined();
    expect(configInVarTmp.notes.join('\n')).toContain('/var/tmp/runner/config.toml is under /tmp');

    const usual = planned(['/usr/local/bin/runner']);
    expect(setting(renderSystemdUnit(usual.plan), 'Service', 'PrivateTmp')).toBe('yes');
    expect(usual.notes).toEqual([]);
    // A name that only starts like /tmp is not under it.
    expect(planned(['/tmpfs/runner']).plan.privateTmp).toBe(true);
  });

  it('falls back to root with a note when there is no runner user', () => {
    const { plan: p, notes } = planService({
      manager: 'systemd',
      scope: 'system',
      runnerVersion: '1.2.3',
      home: '/root',
      paths: defaultServicePaths('systemd', 'system', '/root', {}),
      execStart: [node],
      facts: { backends: ['docker'] },
      serviceUserAvailable: false,
      dockerGroupExists: true,
      env: {},
    });
    expect(p.serviceUser).toBeUndefined();
    expect(p.supplementaryGroups).toEqual([]);
    expect(notes.join('\n')).toMatch(/run as root.*--create-user/);
  });
});
