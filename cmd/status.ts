import type { Command } from 'commander';
import { seconds } from './options.js';
import { reportError } from './report-error.js';

interface StatusFlags {
  config?: string;
  url?: string;
  json?: boolean;
  watch?: boolean | number;
  timeout: number;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("Show the running daemon's scale sets, runners by state, pool tiers and recent jobs")
    .option(
      '-c, --config <file>',
      'config whose health-host/health-port/health-token to use (default: the usual search)',
    )
    .option(
      '--url <url>',
      'health server to ask instead, e.g. http://127.0.0.1:8080 (token: $RUNNER_HEALTH_TOKEN)',
    )
    .option('--json', 'print the raw status JSON (one line per refresh with --watch)')
    .option('-w, --watch [seconds]', 'refresh every few seconds (default 2) until Ctrl-C', seconds)
    .option('--timeout <seconds>', 'HTTP timeout', seconds, 5)
    .addHelpText(
      'after',
      `
Reads GET /api/status from the health server the config names (the daemon must run with
health-port ≠ 0). Colours only on a terminal; NO_COLOR turns them off.

Examples:
  runner status --config /etc/runner/config.toml
  runner status --watch 5
  runner status --json | jq '.scaleSets[] | {name, runnerCounts}'
  RUNNER_HEALTH_TOKEN=… runner status --url http://10.0.0.5:8080`,
    )
    .action(async (flags: StatusFlags) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const [{ showStatus }, { resolveStatusTarget }] = await Promise.all([
          import('../src/status/show.js'),
          import('../src/status/target.js'),
        ]);
        const target = await resolveStatusTarget({
          ...(flags.url ? { url: flags.url } : {}),
          ...(flags.config ? { config: flags.config } : {}),
          env: process.env,
        });
        const tty = Boolean(process.stdout.isTTY);
        await showStatus({
          target,
          json: Boolean(flags.json),
          ...(flags.watch !== undefined
            ? { watchMs: (typeof flags.watch === 'number' ? flags.watch : 2) * 1000 }
            : {}),
          timeoutMs: flags.timeout * 1000,
          color: tty && !process.env.NO_COLOR,
          clearScreen: tty,
          write: (text) => process.stdout.write(text),
          signal: stop.signal,
        });
      } catch (err) {
        reportError(err);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
