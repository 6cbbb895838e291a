import { type CommandRunner, runChecked } from './commands.js';

export interface Account {
  uid: number;
  gid: number;
}

/** Looks up an account with getent, so NSS sources (LDAP, sssd) count, not only /etc/passwd. */
export async function lookupUser(runner: CommandRunner, name: string): Promise<Account | undefined> {
  const r = await runner.run('getent', ['passwd', name]);
  if (r.exitCode === 2) return undefined;
  if (r.exitCode !== 0)
    throw new Error(`getent passwd ${name} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  const [, , uid, gid] = r.stdout.trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function groupExists(runner: CommandRunner, name: string): Promise<boolean> {
  const r = await runner.run('getent', ['group', name]);
  if (r.exitCode === 2) return false;
  if (r.exitCode !== 0)
    throw new Error(`getent group ${name} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  return true;
}

/** A system account with no login shell and the state dir as home. */
export async function createSystemUser(runner: CommandRunner, name: string, home: string): Promise<void> {
  await runChecked(runner, 'useradd', [
    '--system',
    '--user-group',
    '--home-dir',
    home,
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    'runner autoscaler',
    name,
  ]);
}
