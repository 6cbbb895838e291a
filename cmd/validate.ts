import type { Command } from 'commander';
import { seconds } from './options.js';
import { reportError } from './report-error.js';

interface ValidateFlags {
  config?: string;
  json?: boolean;
  timeout: number;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check the config, GitHub access, the backends and the host, and list every problem')
    .option(
      '-c, --config <file>',
      'config file (default: RUNNER_CONFIG, else ./config.toml, else /etc/runner/config.toml)',
    )
    .option('--json', 'print the checks as JSON')
    .option('--timeout <seconds>', 'time limit of each check', seconds, 10)
    .addHelpText(
      'after',
      `
Checks, without side effects (nothing is pulled, registered or started):
  config      every schema problem, each on its own line
  GitHub      per scale set: reachable, credentials accepted (the whole registration chain),
              runner group exists; a rejected token gets the scope it needs
  backend     docker: engine reachable, runner image present (or in the registry, per pull-policy)
              tart: tart on PATH, image in TART_HOME; dedalus: API key accepted
  daemon      health port free, state-dir writable
Secrets come from the environment as they would for runner run: run it with the daemon's env.
Exit code 1 when anything failed. Colours only on a terminal; NO_COLOR turns them off.

Examples:
  runner validate --config /etc/runner/config.toml
  runner validate --json | jq '.checks[] | select(.status == "fail")'
  sudo -u runner --preserve-env=RUNNER_TOKEN runner validate -c /etc/runner/config.toml`,
    )
    .action(async (flags: ValidateFlags) => {
      try {
        const { validateCommand } = await import('../src/validate/index.js');
        process.exitCode = await validateCommand({
          configFile: flags.config,
          env: process.env,
          timeoutMs: flags.timeout * 1000,
          json: Boolean(flags.json),
          color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
          write: (text) => process.stdout.write(text),
        });
      } catch (err) {
        reportError(err);
      }
    });
}
