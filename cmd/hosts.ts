import type { Command } from 'commander';
import { seconds } from './options.js';
import { reportError } from './report-error.js';

interface HostsFlags {
  config?: string;
  url?: string;
  json?: boolean;
  timeout: number;
}

export function registerHosts(program: Command): void {
  const hosts = program
    .command('hosts')
    .description('List the Docker hosts of the running daemon, or cordon and uncordon one')
    .option(
      '-c, --config <file>',
      'config whose health-host/health-port/health-token to use (default: the usual search)',
    )
    .option(
      '--url <url>',
      'health server to ask instead, e.g. http://127.0.0.1:8080 (token: $RUNNER_HEALTH_TOKEN)',
    )
    .option('--json', 'print the JSON the daemon answered')
    .option('--timeout <seconds>', 'HTTP timeout', seconds, 5)
    .addHelpText(
      'after',
      `
Lists each host with its state (up, down, joining), cordon, runners and the CPUs and memory of
their limits against the host's budget (in use / budget), and the last error of a host not up.
Asks the daemon's health server (GET /api/hosts), which must run (health-port ≠ 0).

A cordoned host takes no new runners, for every scale set that lists it; its busy runners finish
their jobs. The cordon is kept in state-dir and outlives a restart.

Examples:
  runner hosts --config /etc/runner/config.toml
  runner hosts --json | jq '.hosts[] | {name, state, cordoned}'
  runner hosts cordon build-2
  runner hosts uncordon build-2`,
    )
    .action((flags: HostsFlags) => run(flags));
  for (const [verb, cordoned] of [
    ['cordon', true],
    ['uncordon', false],
  ] as const) {
    hosts
      .command(`${verb} <name>`)
      .description(
        cordoned
          ? 'Stop placing new runners on a host (busy ones finish); kept across restarts'
          : 'Let a cordoned host take new runners again',
      )
      .option('-c, --config <file>', 'config whose health server to use')
      .option('--url <url>', 'health server to ask instead (token: $RUNNER_HEALTH_TOKEN)')
      .option('--json', 'print the host as the daemon answered')
      .option('--timeout <seconds>', 'HTTP timeout', seconds, 5)
      .action((name: string, flags: HostsFlags) =>
        run({ ...hosts.opts<HostsFlags>(), ...flags }, { name, cordoned }),
      );
  }
}

async function run(flags: HostsFlags, cordon?: { name: string; cordoned: boolean }): Promise<void> {
  try {
    const [{ runHostsCommand }, { resolveStatusTarget }] = await Promise.all([
      import('../src/hosts/show.js'),
      import('../src/status/target.js'),
    ]);
    const target = await resolveStatusTarget({
      ...(flags.url ? { url: flags.url } : {}),
      ...(flags.config ? { config: flags.config } : {}),
      env: process.env,
    });
    await runHostsCommand({
      target,
      ...(cordon ? { cordon } : {}),
      json: Boolean(flags.json),
      color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
      timeoutMs: flags.timeout * 1000,
      write: (text) => process.stdout.write(text),
    });
  } catch (err) {
    reportError(err);
  }
}
