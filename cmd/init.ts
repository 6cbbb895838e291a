import { type Command, Option } from 'commander';
import type { AnswerKey } from '../src/init/answers.js';
// The questions make the flags; the wizard itself (prompts, config rendering) loads when init runs.
import { QUESTIONS } from '../src/init/questions.js';
import { reportError } from './report-error.js';

interface InitFlags extends Partial<Record<AnswerKey, string | boolean>> {
  output: string;
  force?: boolean;
  yes?: boolean;
  tokenInline?: boolean;
}

export function registerInit(program: Command): void {
  const cmd = program
    .command('init')
    .description('Write a config file: asks for what it needs, or takes every answer from flags');
  // One flag per wizard question, described by the question itself.
  for (const q of QUESTIONS) {
    const message = q.help ?? (typeof q.message === 'string' ? q.message : q.flag);
    if (q.kind === 'confirm') {
      cmd.option(q.flag, message);
      cmd.addOption(new Option(q.flag.replace(/^--/, '--no-')).hideHelp());
    } else {
      const arg =
        q.kind === 'int'
          ? '<n>'
          : q.kind === 'choice'
            ? `<${q.choices.map((c) => c.value).join('|')}>`
            : '<value>';
      cmd.option(`${q.flag} ${arg}`, message);
    }
  }
  cmd
    .option(
      '--token-inline',
      'write the token itself into the file (read from $<token-env> or a hidden prompt)',
    )
    .option('-o, --output <file>', 'where to write the config', 'config.toml')
    .option('-f, --force', 'replace the output file if it exists')
    .option('-y, --yes', 'accept the default of every question no flag answers')
    .addHelpText(
      'after',
      `
In a terminal, init asks only what no flag answered. Without one (scripts, CI) every answer must come
from flags, or --yes for those with defaults; init lists whatever is still missing. The file is
written with mode 0600 and names secrets through env:VAR: the token itself is never written unless
--token-inline is given, and it is never read from the command line.

Examples:
  runner init
  runner init --url https://github.com/my-org --name linux --yes
  runner init --url https://github.com/my-org/app --name mac --backend tart \\
      --runner-image ghcr.io/cirruslabs/macos-sequoia-xcode:latest --pool-size 1 --yes
  runner init --url https://github.com/my-org --name ci --auth app --app-client-id Iv23liExample \\
      --app-installation-id 12345678 --app-private-key /etc/runner/app.pem --yes -o /etc/runner/config.toml`,
    )
    .action(async (flags: InitFlags) => {
      const given: Partial<Record<AnswerKey, string | boolean>> = {};
      for (const q of QUESTIONS) {
        const value = flags[q.key];
        if (value !== undefined) given[q.key] = value;
      }
      const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
      const { inquirerPrompter, isPromptCancelled, nextSteps, runInit } = await import(
        '../src/init/index.js'
      );
      try {
        const result = await runInit({
          given,
          output: flags.output,
          force: Boolean(flags.force),
          yes: Boolean(flags.yes),
          tokenInline: Boolean(flags.tokenInline),
          cwd: process.cwd(),
          env: process.env,
          prompter: tty ? inquirerPrompter({ input: process.stdin, output: process.stdout }) : undefined,
        });
        process.stdout.write(nextSteps(result.path, result.answers, Boolean(flags.tokenInline)));
      } catch (err) {
        if (isPromptCancelled(err)) {
          process.stderr.write('runner init cancelled; nothing was written\n');
          process.exitCode = 130;
          return;
        }
        reportError(err);
      }
    });
}
