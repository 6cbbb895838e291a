import type { Command } from 'commander';
import { addConfigFlags, flagOverrides } from '../src/config/index.js';

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description(
      'Run the autoscaler daemon: register the scale sets, listen for jobs, start a runner per job',
    )
    .addHelpText(
      'after',
      `
Precedence: flags > environment (RUNNER_*) > config file > defaults.

Examples:
  $ runner run --config /etc/runner/config.toml
  $ RUNNER_TOKEN=ghp_… runner run --url https://github.com/my-org --name linux --max-runners 4

Signals: the first SIGTERM/SIGINT drains (idle runners removed, busy ones finish within
drain-timeout); a second one exits at once and the next start adopts the runners left behind.

One daemon per state-dir: run holds a lock on it (released by the kernel however the process
ends); a second run on the same state-dir exits at once with code 1, naming the first one's pid.`,
    );
  addConfigFlags(cmd);
  cmd.option(
    '--dry-run',
    'check everything `runner validate` checks, then exit; nothing is pulled or registered',
  );
  cmd.action(async (opts: Record<string, unknown>) => {
    if (opts.dryRun) {
      const { validateCommand } = await import('../src/validate/index.js');
      process.exitCode = await validateCommand({
        configFile: typeof opts.config === 'string' ? opts.config : undefined,
        env: process.env,
        flags: flagOverrides(opts),
        json: false,
        color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
        write: (t) => process.stdout.write(t),
      });
      return;
    }
    const { runCommand } = await import('../src/daemon/run-command.js');
    const code = await runCommand({
      configFile: typeof opts.config === 'string' ? opts.config : undefined,
      flags: flagOverrides(opts),
      onConfigError: (err) => {
        process.stderr.write(
          `${err.message}\n\nFix the config and run again; \`runner validate\` checks it.\n`,
        );
      },
    });
    process.exitCode = code;
  });
}
