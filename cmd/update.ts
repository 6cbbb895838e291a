import type { Command } from 'commander';
import { isSingleExecutable } from '../src/release/build-info.js';
import { RELEASE_BASE_URL_ENV, resolveBaseUrl } from '../src/release/layout.js';
import { UpdateError } from '../src/update/errors.js';
import type { UpdateDecision } from '../src/update/plan.js';
import { VERSION } from '../src/version.js';
import { seconds } from './options.js';
import { reportError } from './report-error.js';

interface UpdateFlags {
  config?: string;
  check?: boolean;
  version?: string;
  yes?: boolean;
  allowDowngrade?: boolean;
  baseUrl?: string;
  timeout: number;
}

/** --yes skips the question; without a terminal to ask on, not answering means no. */
async function ask(flags: UpdateFlags, decision: UpdateDecision): Promise<boolean> {
  if (flags.yes) return true;
  if (!process.stdin.isTTY) {
    throw new UpdateError(
      'UPDATE_NOT_CONFIRMED',
      'not a terminal, so nobody can confirm: pass --yes to update without asking',
    );
  }
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: `Replace runner ${decision.current} with ${decision.target}?`, default: true });
}

export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description('Replace this runner binary with the latest release (or the one given), checksum verified')
    .option('--check', 'only say whether a newer release exists')
    .option('--version <version>', 'install this release instead of the latest, e.g. 1.4.2')
    .option('--allow-downgrade', 'with --version: allow installing an older release')
    .option('-y, --yes', 'do not ask for confirmation')
    .option(
      '--base-url <url>',
      `where releases are published (default: $${RELEASE_BASE_URL_ENV}, else GitHub Releases)`,
    )
    .option('--timeout <seconds>', 'timeout for each download', seconds, 300)
    .option(
      '-c, --config <file>',
      'config file whose top-level proxy, no-proxy, ca-file, use-system-ca and insecure-skip-tls-verify apply (default: RUNNER_CONFIG, else ./config.toml, else /etc/runner/config.toml; without one, HTTPS_PROXY and NO_PROXY)',
    )
    .addHelpText(
      'after',
      `
The archive runner-<os>-<arch>.tar.gz is checked against the release's checksums.txt (SHA-256)
before anything is written; the binary is then replaced atomically. Versions are compared as semver
and an older release is never installed unless pinned with --version and --allow-downgrade.
An npm install is updated with npm instead. Downloads go through the proxy and trust the CAs of the
config's top level (proxy, no-proxy, ca-file, use-system-ca), else HTTPS_PROXY and NO_PROXY.

Examples:
  runner update --check
  sudo runner update --yes
  runner update --version 1.4.2 --allow-downgrade --yes
  RUNNER_RELEASE_BASE_URL=https://mirror.example.com/runner/releases runner update`,
    )
    .action(async (flags: UpdateFlags) => {
      let networks: { destroy(): Promise<void> } | undefined;
      try {
        const { describeOutcome, runUpdate } = await import('../src/update/update.js');
        const { loadNetworkConfig } = await import('../src/config/index.js');
        const { Networks } = await import('../src/net/networks.js');
        const pools = new Networks();
        networks = pools;
        const network = pools.access(await loadNetworkConfig({ file: flags.config }));
        const outcome = await runUpdate({
          network,
          baseUrl: resolveBaseUrl(flags.baseUrl),
          current: VERSION,
          ...(flags.version ? { pin: flags.version } : {}),
          allowDowngrade: Boolean(flags.allowDowngrade),
          timeoutMs: flags.timeout * 1000,
          check: Boolean(flags.check),
          sea: isSingleExecutable(),
          executable: process.execPath,
          confirm: (decision) => ask(flags, decision),
          say: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(`${describeOutcome(outcome)}\n`);
      } catch (err) {
        reportError(err);
      } finally {
        await networks?.destroy();
      }
    });
}
