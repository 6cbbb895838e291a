import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  controlService,
  type InstallOptions,
  installService,
  type ServiceContext,
  serviceLogs,
  uninstallService,
} from '../../src/service/manager.js';
import { FakeCommands } from './fake-commands.js';
import { systemdVerify } from './systemd-verify.js';

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

describe('service install / uninstall against a temp root', () => {
  let root: string;
  let commands: FakeCommands;
  let said: string[];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'runner-root-'));
    commands = new FakeCommands();
    said = [];
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const EXEC = '/usr/bin/env';
  function ctx(overrides: Partial<ServiceContext> = {}): ServiceContext {
    return {
      platform: 'linux',
      scope: 'system',
      home: '/home/ci',
      uid: 1000,
      isRoot: true,
      root,
      env: {},
      cwd: root,
      commands,
      sea: true,
      // Exists (systemd-analyze verify checks ExecStart) and is not under /tmp, wherever the checkout is.
      execPath: EXEC,
      runnerVersion: '1.2.3',
      say: (line) => said.push(line),
      ...overrides,
    };
  }

  const install = (c: ServiceContext, opts: Partial<InstallOptions> = {}) =>
    installService(c, { start: true, dryRun: false, force: false, createUser: false, ...opts });

  async function writeConfig(path: string, text: string): Promise<void> {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text, { mode: 0o640 });
  }

  it('system + docker + existing runner user: unit, env file 0600, state dir, enable --now', async () => {
    commands.users.set('runner', me);
    commands.groups.add('docker');
    await writeConfig(
      '/etc/runner/config.toml',
      'backend = "docker"\ndrain-timeout = "10m"\nstate-dir = "/srv/runner-state"\n',
    );

    const result = await install(ctx());

    const unit = await readFile(join(root, 'etc/systemd/system/runner.service'), 'utf8');
    expect(unit).toBe(result.rendered);
    expect(unit).toContain('\nUser=runner\n');
    expect(unit).toContain('\nSupplementaryGroups=docker\n');
    expect(unit).toContain('\nReadWritePaths=/srv/runner-state -/etc/runner\n');
    expect(unit).not.toContain('RUNNER_STATE_DIR');
    expect(unit).toContain('\nTimeoutStopSec=630\n');
    expect(unit).toContain(`\nExecStart=${EXEC} run --config /etc/runner/config.toml\n`);
    expect((await systemdVerify(unit)).code).toBe(0);
    expect((await stat(join(root, 'etc/systemd/system/runner.service'))).mode & 0o777).toBe(0o644);

    const envFile = join(root, 'etc/runner/runner.env');
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const env = await readFile(envFile, 'utf8');
    expect(env).toMatch(/^# RUNNER_TOKEN=$/m);
    expect(env).toMatch(/^# DEDALUS_API_KEY=$/m);
    expect(existsSync(join(root, 'srv/runner-state'))).toBe(true);

    expect(commands.actions()).toEqual(['systemctl daemon-reload', 'systemctl enable --now runner.service']);
    expect(result.notes).toEqual([]);
  });

  it('refuses to overwrite without --force; --force rewrites the unit but never the env file', async () => {
    await install(ctx());
    const envFile = join(root, 'etc/runner/runner.env');
    await writeFile(envFile, 'RUNNER_TOKEN=ghp_secret\n');
    const unitFile = join(root, 'etc/systemd/system/runner.service');
    await writeFile(unitFile, '# hand edited\n');

    await expect(install(ctx())).rejects.toMatchObject({
      code: 'SERVICE_EXISTS',
      message: expect.stringMatching(/--force/),
    });
    expect(await readFile(unitFile, 'utf8')).toBe('# hand edited\n');

    await install(ctx(), { force: true });
    expect(await readFile(unitFile, 'utf8')).toMatch(/^ExecStart=/m);
    expect(await readFile(envFile, 'utf8')).toBe('RUNNER_TOKEN=ghp_secret\n');
  });

  it('warns when an existing env file is readable by others', async () => {
    await mkdir(join(root, 'etc/runner'), { recursive: true });
    await writeFile(join(root, 'etc/runner/runner.env'), 'RUNNER_TOKEN=x\n', { mode: 0o644 });
    const result = await install(ctx());
    expect(result.notes.join('\n')).toContain('chmod 600 /etc/runner/runner.env');
  });

  it('--create-user creates the system user before writing a unit that uses it', async () => {
    commands.groups.add('docker');
    await writeConfig('/etc/runner/config.toml', 'backend = "docker"\n');
    await install(ctx(), { createUser: true });
    const useradd = commands.calls.find((c) => c.command === 'useradd');
    expect(useradd?.args).toEqual([
      '--system',
      '--user-group',
      '--home-dir',
      '/var/lib/runner',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      'runner autoscaler',
      'runner',
    ]);
    const actions = commands.actions();
    expect(actions.indexOf(actions.find((a) => a.startsWith('useradd'))!)).toBeLessThan(
      actions.indexOf('systemctl daemon-reload'),
    );
    const unit = await readFile(join(root, 'etc/systemd/system/runner.service'), 'utf8');
    expect(unit).toContain('\nUser=runner\n');
  });

  it('without the runner user: runs as root and says how to get a dedicated user', async () => {
    const result = await install(ctx());
    const unit = await readFile(join(root, 'etc/systemd/system/runner.service'), 'utf8');
    expect(unit).not.toMatch(/^User=/m);
    expect(result.notes.join('\n')).toMatch(/run as root.*--create-user/);
    // No config yet, so no state-dir in it: the daemon is told to use the dir the unit made writable.
    expect(unit).toMatch(/^Environment=.* RUNNER_STATE_DIR=\/var\/lib\/runner$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/var\/lib\/runner /m);
    expect(commands.calls.some((c) => c.command === 'useradd')).toBe(false);
  });

  it('a system install needs root; the message offers sudo or --user', async () => {
    await expect(install(ctx({ isRoot: false }))).rejects.toMatchObject({
      code: 'SERVICE_NEEDS_ROOT',
      message: expect.stringMatching(/sudo.*--user/),
    });
    expect(existsSync(join(root, 'etc/systemd/system/runner.service'))).toBe(false);
    expect(commands.actions()).toEqual([]);
  });

  it('--dry-run writes nothing and runs nothing but the lookups', async () => {
    const result = await install(ctx({ isRoot: false }), { dryRun: true });
    expect(result.written).toBe(false);
    expect(result.rendered).toMatch(/^\[Service\]$/m);
    expect(existsSync(join(root, 'etc'))).toBe(false);
    expect(commands.actions()).toEqual([]);
  });

  it('--user: unit under ~/.config/systemd/user, env file under ~/.config/runner, systemctl --user', async () => {
    const home = join(root, 'home/ci');
    await install(ctx({ scope: 'user', isRoot: false, home, root: '/' }), { start: false });
    const unit = await readFile(join(home, '.config/systemd/user/runner.service'), 'utf8');
    expect(unit).toContain(`EnvironmentFile=-${home}/.config/runner/runner.env`);
    expect(unit).not.toMatch(/^User=/m);
    expect((await stat(join(home, '.config/runner/runner.env'))).mode & 0o777).toBe(0o600);
    expect(commands.actions()).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable runner.service',
    ]);
    expect(commands.calls.some((c) => c.command === 'getent')).toBe(false);
  });

  it('uninstall disables, removes the unit, reloads, keeps the env file; a second uninstall says so', async () => {
    await install(ctx());
    commands.calls.length = 0;
    await uninstallService(ctx());
    expect(commands.actions()).toEqual(['systemctl disable --now runner.service', 'systemctl daemon-reload']);
    expect(existsSync(join(root, 'etc/systemd/system/runner.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/runner/runner.env'))).toBe(true);
    await expect(uninstallService(ctx())).rejects.toMatchObject({
      code: 'SERVICE_NOT_INSTALLED',
      message: expect.stringMatching(/runner service install/),
    });
  });

  it('uninstall still removes the unit when the service was never loaded', async () => {
    await install(ctx(), { start: false });
    commands.failures.set('systemctl disable', 1);
    await uninstallService(ctx());
    expect(existsSync(join(root, 'etc/systemd/system/runner.service'))).toBe(false);
  });

  it('start / stop / logs map onto systemctl and journalctl; a failing systemctl is reported', async () => {
    await install(ctx({ scope: 'user', isRoot: false, home: join(root, 'h'), root: '/' }), { start: false });
    commands.calls.length = 0;
    const user = ctx({ scope: 'user', isRoot: false, home: join(root, 'h'), root: '/' });
    await controlService(user, 'start');
    await controlService(user, 'stop');
    await serviceLogs(user, 50, true);
    expect(commands.calls.map((c) => [c.attached, c.command, ...c.args].join(' '))).toEqual([
      'false systemctl --user start runner.service',
      'false systemctl --user stop runner.service',
      'true journalctl --user -u runner.service -n 50 --no-pager -f',
    ]);
    commands.failures.set('systemctl --user start', 1);
    await expect(controlService(user, 'start')).rejects.toThrow(
      /systemctl --user start runner.service` failed \(exit 1\): systemctl: simulated failure/,
    );
  });

  it('macOS: a LaunchAgent plist, bootstrapped into the gui domain with modern launchctl', async () => {
    const home = join(root, 'Users/ci');
    await install(ctx({ platform: 'darwin', scope: 'user', isRoot: false, home, root: '/', uid: 501 }));
    const plist = await readFile(join(home, 'Library/LaunchAgents/runner.autoscaler.plist'), 'utf8');
    expect(plist).toContain('<key>EnvironmentVariables</key>');
    expect(existsSync(join(home, 'Library/Logs/runner'))).toBe(true);
    expect(commands.actions()).toEqual([
      'launchctl enable gui/501/runner.autoscaler',
      `launchctl bootstrap gui/501 ${home}/Library/LaunchAgents/runner.autoscaler.plist`,
    ]);
    commands.calls.length = 0;
    await uninstallService(
      ctx({ platform: 'darwin', scope: 'user', isRoot: false, home, root: '/', uid: 501 }),
    );
    expect(commands.actions()).toEqual(['launchctl bootout gui/501/runner.autoscaler']);
  });
});
