import { type CommandRunner, runChecked } from './commands.js';
import type { ServicePlan } from './plan.js';

/** The service manager's verbs, for one installed unit or plist. */
export interface ServiceController {
  /** Make the manager see the new definition, enable it at boot/login, start it unless told not to. */
  activate(start: boolean): Promise<void>;
  /** Stop and disable before the definition is removed; tolerates a unit that is not loaded. */
  deactivate(): Promise<void>;
  /** After the definition file is gone. */
  forget(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  status(): Promise<number>;
  logs(lines: number, follow: boolean): Promise<number>;
}

export interface ControllerTarget {
  scope: ServicePlan['scope'];
  unitFile: string;
  label: string;
  logFile?: string;
  uid: number;
}

export function systemdController(run: CommandRunner, t: ControllerTarget): ServiceController {
  const scope = t.scope === 'user' ? ['--user'] : [];
  const unit = t.unitFile.split('/').pop() ?? 'runner.service';
  const systemctl = (...args: string[]) => runChecked(run, 'systemctl', [...scope, ...args]);
  return {
    async activate(start) {
      await systemctl('daemon-reload');
      await systemctl('enable', ...(start ? ['--now'] : []), unit);
    },
    async deactivate() {
      // A unit that was never started or is already gone must not block its removal.
      await run.run('systemctl', [...scope, 'disable', '--now', unit]);
    },
    async forget() {
      await systemctl('daemon-reload');
    },
    start: () => systemctl('start', unit).then(() => undefined),
    stop: () => systemctl('stop', unit).then(() => undefined),
    restart: () => systemctl('restart', unit).then(() => undefined),
    status: () => run.attach('systemctl', [...scope, 'status', '--no-pager', unit]),
    logs: (lines, follow) =>
      run.attach('journalctl', [
        ...scope,
        '-u',
        unit,
        '-n',
        String(lines),
        '--no-pager',
        ...(follow ? ['-f'] : []),
      ]),
  };
}

/** Modern launchctl (bootstrap/bootout/kickstart), not the deprecated load/unload. */
export function launchdController(run: CommandRunner, t: ControllerTarget): ServiceController {
  const domain = t.scope === 'system' ? 'system' : `gui/${t.uid}`;
  const service = `${domain}/${t.label}`;
  const launchctl = (...args: string[]) => runChecked(run, 'launchctl', args);
  const bootstrap = async () => {
    await launchctl('enable', service);
    await launchctl('bootstrap', domain, t.unitFile);
  };
  return {
    async activate(start) {
      if (start) await bootstrap();
    },
    async deactivate() {
      await run.run('launchctl', ['bootout', service]);
    },
    async forget() {},
    async start() {
      // bootstrap fails when the job is already loaded; then it only needs a kick.
      const r = await run.run('launchctl', ['print', service]);
      if (r.exitCode === 0) await launchctl('kickstart', service);
      else await bootstrap();
    },
    stop: () => launchctl('bootout', service).then(() => undefined),
    restart: () => launchctl('kickstart', '-k', service).then(() => undefined),
    status: () => run.attach('launchctl', ['print', service]),
    logs(lines, follow) {
      if (!t.logFile) throw new Error('no log file configured for the launchd job');
      return run.attach('tail', ['-n', String(lines), ...(follow ? ['-F'] : []), t.logFile]);
    },
  };
}
