import { homedir } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { isSingleExecutable } from '../src/release/build-info.js';
import type { CommandRunner } from '../src/service/commands.js';
import type { ServiceAction, ServiceContext } from '../src/service/manager.js';
import { VERSION } from '../src/version.js';
import { reportError } from './report-error.js';

interface ScopeOpts {
  user?: boolean;
}

function context(opts: ScopeOpts, commands: CommandRunner): ServiceContext {
  return {
    platform: process.platform,
    scope: opts.user ? 'user' : 'system',
    home: homedir(),
    uid: process.getuid?.() ?? 0,
    isRoot: process.geteuid?.() === 0,
    root: '/',
    env: process.env,
    cwd: process.cwd(),
    commands,
    sea: isSingleExecutable(),
    execPath: process.execPath,
    ...(process.argv[1] ? { script: process.argv[1] } : {}),
    runnerVersion: VERSION,
    say: (line) => process.stderr.write(`${line}\n`),
  };
}

type Manager = typeof import('../src/service/manager.js');

/**
 * Runs an action with the service code, loaded only now (a daemon never needs it); a failure prints
 * its message (which says what to do next) and exits 1.
 */
async function attempt(
  opts: ScopeOpts,
  fn: (m: Manager, ctx: ServiceContext) => Promise<unknown>,
): Promise<void> {
  try {
    const [m, { hostCommands }] = await Promise.all([
      import('../src/service/manager.js'),
      import('../src/service/commands.js'),
    ]);
    const code = await fn(m, context(opts, hostCommands));
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  } catch (err) {
    reportError(err);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

export function registerService(program: Command): void {
  const service = program
    .command('service')
    .description('Install and control runner as a systemd (Linux) or launchd (macOS) service')
    .addHelpText(
      'after',
      `
System services (the default) need root; --user manages a per-user service instead (systemd --user,
or a LaunchAgent on macOS). Secrets go in the env file the service reads (/etc/runner/runner.env, or
~/.config/runner/runner.env with --user), created with mode 0600 on install.

Examples:
  sudo runner service install --create-user --config-path /etc/runner/config.toml
  runner service install --user --dry-run        # print the unit, change nothing
  sudo runner service logs -f
  runner service status --user`,
    );

  service
    .command('install')
    .description('Write the unit (or plist) and env file, enable the service and start it')
    .option('--user', 'install a per-user service instead of a system one')
    .option(
      '--config-path <file>',
      'config the service runs with (default /etc/runner/config.toml, or ~/.config/runner/config.toml with --user)',
    )
    .option(
      '--binary-path <path>',
      'runner executable to start (default: this one; a .js path runs under this node)',
    )
    .option('--create-user', 'create the "runner" system user the service runs as (system services on Linux)')
    .option('--no-start', 'enable the service without starting it')
    .option('--force', 'overwrite an existing unit or plist')
    .option('--dry-run', 'print the unit or plist instead of writing anything')
    .addHelpText(
      'after',
      `
The system unit runs as the dedicated user "runner" when it exists (or with --create-user), in the
docker group when the config uses the docker backend; otherwise as root, with a warning. It is
sandboxed (ProtectSystem=strict, ProtectHome=read-only, …) with write access to the state dir and
the config's directory only, restarts on failure, and gets SIGTERM with time to drain on stop.

Examples:
  sudo runner service install --create-user
  sudo runner service install --config-path /srv/runner/config.toml --no-start
  runner service install --user --dry-run > runner.service`,
    )
    .action(
      async (
        opts: ScopeOpts & {
          configPath?: string;
          binaryPath?: string;
          createUser?: boolean;
          start: boolean;
          force?: boolean;
          dryRun?: boolean;
        },
      ) =>
        attempt(opts, async (m, ctx) => {
          const result = await m.installService(ctx, {
            ...(opts.configPath ? { configPath: opts.configPath } : {}),
            ...(opts.binaryPath ? { binaryPath: opts.binaryPath } : {}),
            start: opts.start,
            dryRun: Boolean(opts.dryRun),
            force: Boolean(opts.force),
            createUser: Boolean(opts.createUser),
          });
          if (opts.dryRun) {
            ctx.say(
              `would write ${result.plan.unitFile} and create ${result.plan.envFile} (mode 0600) if missing`,
            );
            process.stdout.write(result.rendered);
          }
          for (const note of result.notes) ctx.say(`warning: ${note}`);
        }),
    );

  service
    .command('uninstall')
    .description('Stop and disable the service and remove its unit or plist (the env file is kept)')
    .option('--user', 'the per-user service')
    .addHelpText('after', '\nExamples:\n  sudo runner service uninstall\n  runner service uninstall --user')
    .action(async (opts: ScopeOpts) => attempt(opts, (m, ctx) => m.uninstallService(ctx)));

  for (const action of ['start', 'stop', 'restart'] as const satisfies readonly ServiceAction[]) {
    service
      .command(action)
      .description(
        `${action[0]!.toUpperCase()}${action.slice(1)} the installed service${action === 'stop' ? ' (runner drains first)' : ''}`,
      )
      .option('--user', 'the per-user service')
      .addHelpText('after', `\nExamples:\n  sudo runner service ${action}\n  runner service ${action} --user`)
      .action(async (opts: ScopeOpts) => attempt(opts, (m, ctx) => m.controlService(ctx, action)));
  }

  service
    .command('status')
    .description("Show the service manager's view of the service (systemctl status / launchctl print)")
    .option('--user', 'the per-user service')
    .addHelpText(
      'after',
      "\nFor runner's own view (scale sets, runners, jobs) use `runner status`.\n\nExamples:\n  runner service status\n  runner service status --user",
    )
    .action(async (opts: ScopeOpts) => attempt(opts, (m, ctx) => m.serviceStatus(ctx)));

  service
    .command('logs')
    .description('Show the service log (journalctl on Linux, the log file on macOS)')
    .option('--user', 'the per-user service')
    .option('-n, --lines <n>', 'how many recent lines', positiveInt, 100)
    .option('-f, --follow', 'keep printing new lines')
    .addHelpText('after', '\nExamples:\n  sudo runner service logs -n 500\n  runner service logs --user -f')
    .action(async (opts: ScopeOpts & { lines: number; follow?: boolean }) =>
      attempt(opts, (m, ctx) => m.serviceLogs(ctx, opts.lines, Boolean(opts.follow))),
    );
}
