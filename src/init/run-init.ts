import { resolve } from 'node:path';
import type { AnswerKey, InitAnswers } from './answers.js';
import { renderInitConfig } from './build-config.js';
import { collectAnswers } from './collect.js';
import { InitError } from './errors.js';
import type { Prompter } from './prompter.js';
import { inlineToken } from './token.js';
import { exists, fileExists, writeConfigFile } from './write-config.js';

export interface InitOptions {
  /** Raw flag values by answer key. */
  given: Partial<Record<AnswerKey, string | boolean>>;
  /** --output; relative to `cwd`. */
  output: string;
  force: boolean;
  /** --yes: defaults instead of questions. */
  yes: boolean;
  /** --token-inline: write the PAT itself instead of an env: reference. */
  tokenInline: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The terminal; undefined without one, so every answer must come from flags. */
  prompter?: Prompter | undefined;
  now?: Date;
}

export interface InitResult {
  path: string;
  answers: InitAnswers;
  text: string;
}

/** `runner init`: ask (or read flags), render through the config schema, write 0600. */
export async function runInit(opts: InitOptions): Promise<InitResult> {
  const path = resolve(opts.cwd, opts.output);
  // Asked first, so nobody answers ten questions to be told the file is in the way.
  const overwrite = opts.force || (await confirmOverwrite(path, opts.prompter));
  const answers = await collectAnswers({
    given: opts.given,
    prompter: opts.prompter,
    acceptDefaults: opts.yes,
    cwd: opts.cwd,
  });
  let token: string | undefined;
  if (opts.tokenInline) {
    if (answers.auth !== 'pat' || answers.tokenEnv === undefined) {
      throw new InitError(
        'INIT_USAGE',
        '--token-inline: only for --auth pat (a GitHub App has no token to write)',
      );
    }
    token = await inlineToken(answers.tokenEnv, opts.env, opts.prompter);
  }
  const text = renderInitConfig(answers, { inlineToken: token, ...(opts.now ? { now: opts.now } : {}) });
  await writeConfigFile(path, text, overwrite);
  return { path, answers, text };
}

async function confirmOverwrite(path: string, prompter: Prompter | undefined): Promise<boolean> {
  if (!(await fileExists(path))) return false;
  if (!prompter) throw exists(path);
  const replace = await prompter.confirm({ message: `${path} already exists. Replace it?`, default: false });
  if (!replace)
    throw new InitError('INIT_EXISTS', `${path} left unchanged; use --output to write another file`);
  return true;
}
