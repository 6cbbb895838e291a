import type { Command } from 'commander';
import { seconds } from './options.js';
import { reportError } from './report-error.js';

interface DoctorFlags {
  config?: string;
  fix?: boolean;
  force?: boolean;
  json?: boolean;
  timeout: number;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'Find what runner owns that nothing uses (containers, VMs, machines, registrations); --fix removes it',
    )
    .option(
      '-c, --config <file>',
      'config file (default: RUNNER_CONFIG, else ./config.toml, else /etc/runner/config.toml)',
    )
    .option('--fix', 'remove what was found (refused while a daemon holds the state-dir lock)')
    .option(
      '--force',
      'with --fix: go ahead where doctor cannot tell whether a daemon runs (the state-dir lock cannot be read, or it is free but a health server answers)',
    )
    .option('--json', 'print the report as JSON')
    .option('--timeout <seconds>', 'time limit of each backend or GitHub call', seconds, 30)
    .addHelpText(
      'after',
      `
Looks at every scale set of the config through its backend's own ownership marks (labels for Docker,
the backend's state for Tart and Dedalus) and the daemon's state-dir, so it never touches anything
another daemon or a person made. It finds:
  - exited containers / VMs / machines of ours that were never removed
  - ours still running while no daemon manages them
  - runners registered at GitHub by us whose container/VM/machine is gone
It cannot see stale message sessions at GitHub (the API cannot list them; they expire by themselves).

Every runner run holds a lock on its state-dir while it lives (the kernel drops it when the process
dies, so a crash never leaves it held): doctor reads it to know whether a daemon runs, whatever
health-port is. --fix refuses while a process holds it, naming its pid; stop the daemon first.
--fix holds the lock itself while it fixes, so no daemon can start in the middle. Registrations
recorded in the last 10 minutes are not checked while a daemon runs (they may be starts in flight);
doctor says so. Exit code 1 when anything is left over, could not be checked or a removal failed;
0 only when nothing is left (a running daemon's starts in flight are its own, not leftovers).

Examples:
  runner doctor --config /etc/runner/config.toml
  sudo systemctl stop runner && sudo runner doctor --fix -c /etc/runner/config.toml
  runner doctor --json | jq '.scaleSets[].findings'`,
    )
    .action(async (flags: DoctorFlags) => {
      try {
        const { doctorCommand } = await import('../src/doctor/index.js');
        process.exitCode = await doctorCommand({
          configFile: flags.config,
          env: process.env,
          fix: Boolean(flags.fix),
          force: Boolean(flags.force),
          timeoutMs: flags.timeout * 1000,
          json: Boolean(flags.json),
          color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
          write: (text) => process.stdout.write(text),
          writeError: (text) => process.stderr.write(text),
        });
      } catch (err) {
        reportError(err);
      }
    });
}
