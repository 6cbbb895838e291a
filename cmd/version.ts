import type { Command } from 'commander';
import { buildInfo, formatBuildInfo } from '../src/release/build-info.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('Print the version, commit, Node.js version and platform')
    .option(
      '--json',
      'print JSON: {version, commit, date?, node, nodeRange, os, arch, distribution, nodeFlags}',
    )
    .option('--short', 'print only the version number')
    .addHelpText(
      'after',
      `
Examples:
  runner version
  runner version --short            # 0.1.0, for scripts
  runner version --json | jq -r .commit`,
    )
    .action((opts: { json?: boolean; short?: boolean }) => {
      const info = buildInfo();
      if (opts.json) process.stdout.write(`${JSON.stringify(info)}\n`);
      else if (opts.short) process.stdout.write(`${info.version}\n`);
      else process.stdout.write(formatBuildInfo(info));
    });
}
