import { InitError } from './errors.js';
import type { Prompter } from './prompter.js';

/**
 * The PAT for --token-inline: from the variable the config would otherwise reference, or typed at a
 * hidden prompt. Never from argv, where every user of the host can read it with ps.
 */
export async function inlineToken(
  variable: string,
  env: NodeJS.ProcessEnv,
  prompter: Prompter | undefined,
): Promise<string> {
  const fromEnv = env[variable];
  if (fromEnv) return fromEnv;
  if (!prompter) {
    throw new InitError(
      'INIT_USAGE',
      `--token-inline: set $${variable} to the token for runner init to write it (it is never taken from the command line)`,
    );
  }
  return prompter.secret({
    message: 'Token to write into the file (hidden)',
    validate: async (v) => (v.trim() === '' ? 'expected a token, got nothing' : true),
  });
}
