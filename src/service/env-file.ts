import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * KEY=value lines that both systemd (EnvironmentFile=) and /bin/sh (the launchd wrapper) read the
 * same way, as long as values with spaces or quotes are single-quoted.
 */
export function envFileTemplate(): string {
  return `# Environment of the runner service. Keep secrets here, not in the unit, the plist or the config:
# this file is mode 0600 and is read when the service starts (systemd EnvironmentFile=, or sourced
# by /bin/sh under launchd, so quote values that contain spaces: KEY='a value').
#
# Reference these from config.toml with env:, e.g.  token = "env:RUNNER_TOKEN"
# After editing: runner service stop && runner service start
#
# GitHub personal access token (or use a GitHub App in config.toml):
# RUNNER_TOKEN=
#
# API key for the Dedalus backend:
# DEDALUS_API_KEY=
`;
}

export type EnvFileResult = 'created' | 'kept' | 'kept-loose';

/**
 * Creates the env file with mode 0600 unless it exists: an existing file holds the operator's
 * secrets and is never rewritten. `kept-loose` means it exists but others can read it.
 */
export async function ensureEnvFile(path: string): Promise<EnvFileResult> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return ((await stat(path)).mode & 0o077) === 0 ? 'kept' : 'kept-loose';
  }
  try {
    await fh.writeFile(envFileTemplate());
    // The process umask may have narrowed the mode further; make it exactly 0600.
    await chmod(path, 0o600);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return 'created';
}
