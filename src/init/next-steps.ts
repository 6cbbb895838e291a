import type { InitAnswers } from './answers.js';

/** What to do after init, with the written path in every command so it can be pasted as is. */
export function nextSteps(path: string, a: InitAnswers, tokenInline: boolean): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
  const secrets: string[] = [];
  if (a.auth === 'pat' && !tokenInline) secrets.push(`export ${a.tokenEnv}=<your token>`);
  if (a.backend === 'dedalus') secrets.push(`export ${a.dedalusApiKeyEnv}=<your Dedalus API key>`);
  const lines = [`Wrote ${path} (mode 0600).`, '', 'Next steps:'];
  if (secrets.length > 0) {
    lines.push('  1. Make the secrets available (the file only names the variables):');
    for (const s of secrets) lines.push(`       ${s}`);
  }
  const n = secrets.length > 0 ? 2 : 1;
  lines.push(
    `  ${n}. Check the config, GitHub access and the backend:`,
    `       runner validate --config ${quoted}`,
    `  ${n + 1}. Run it as a service (put the secrets in the env file it prints):`,
    `       sudo runner service install --config-path ${quoted}`,
    `     or in the foreground: runner run --config ${quoted}`,
  );
  return `${lines.join('\n')}\n`;
}
