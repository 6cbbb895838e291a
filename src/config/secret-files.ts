import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RunnerConfig } from './types.js';

/**
 * Who may read the files that hold secrets: the config file when it writes a secret literally (not
 * `env:VAR`), and GitHub App key files. The rule is ssh's for private keys, which it refuses when
 * they are open to others, with the one exception a service needs:
 * - readable or writable by every user (mode & 007): always exposed;
 * - open to the file's group (mode & 070): exposed when the file is ours and its group is our own
 *   primary group (on macOS that is `staff`, every local user). A file owned by someone else and
 *   shared through a group is how a service reads a root-owned config (`chown root:runner; chmod
 *   0640`, as `runner service install` advises), and stays quiet.
 * `runner validate` shows each exposed file as ✗ with the chmod that fixes it; `runner run` logs a
 * warning and starts anyway (see run-command.ts for why it does not refuse).
 */

export interface SecretFile {
  /** Absolute path. */
  path: string;
  /** What it holds, for messages: `secrets (token, health-token)` or `the GitHub App private key`. */
  holds: string;
}

export interface Exposure {
  /** `every user on this machine can read it`. */
  who: string;
  /** Permission bits, e.g. `0644`. */
  mode: string;
  /** The command that fixes it. */
  fix: string;
}

export interface Ids {
  uid: number;
  gid: number;
}

/** The files of `config` that hold secrets, each once. */
export function secretFiles(config: RunnerConfig, cwd = process.cwd()): SecretFile[] {
  const files: SecretFile[] = [];
  if (config.file !== '' && config.fileSecrets.length > 0) {
    files.push({
      path: resolve(cwd, config.file),
      holds: `secrets (${[...new Set(config.fileSecrets)].join(', ')})`,
    });
  }
  const keys = new Set<string>();
  for (const set of config.scaleSets) {
    if (set.auth.kind === 'app' && set.auth.privateKeyPath !== '') keys.add(set.auth.privateKeyPath);
  }
  for (const path of keys) files.push({ path, holds: 'the GitHub App private key' });
  return files;
}

export function currentIds(): Ids | undefined {
  if (!process.getuid || !process.getgid) return undefined;
  return { uid: process.getuid(), gid: process.getgid() };
}

/** How `path` is exposed, or undefined when only its owner (and a deliberate group) can read it. */
export async function exposureOf(
  path: string,
  me: Ids | undefined = currentIds(),
): Promise<Exposure | undefined> {
  if (!me) return undefined;
  const s = await stat(path);
  return exposure({ mode: s.mode & 0o777, uid: s.uid, gid: s.gid }, me, path);
}

/** The rule itself, on a stat result: see the module comment. */
export function exposure(
  file: { mode: number; uid: number; gid: number },
  me: Ids,
  path: string,
): Exposure | undefined {
  const mine = file.uid === me.uid;
  const others = file.mode & 0o007;
  const group = mine && file.gid === me.gid ? file.mode & 0o070 : 0;
  if (others === 0 && group === 0) return undefined;
  const can = (bits: number, read: number) => (bits & read ? 'read' : 'change');
  const who =
    others !== 0
      ? `every user on this machine can ${can(others, 0o004)} it`
      : `every member of its group (gid ${file.gid}) can ${can(group, 0o040)} it`;
  // A group that is not ours is shared on purpose: take away only what everyone else has.
  const sharedGroup = (file.mode & 0o070) !== 0 && group === 0;
  const chmod = sharedGroup || !mine ? `chmod o-rwx ${shellQuote(path)}` : `chmod 600 ${shellQuote(path)}`;
  const fix = mine || me.uid === 0 ? chmod : `sudo ${chmod}`;
  return { who, mode: `0${file.mode.toString(8).padStart(3, '0')}`, fix };
}

function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
