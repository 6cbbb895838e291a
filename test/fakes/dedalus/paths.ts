import { join } from 'node:path';

/**
 * Where a fake machine's guest paths live on this host. `/home/machine` is the persistent home
 * (survives sleep); `/tmp` stands for the root filesystem, which the fake wipes at every sleep to model
 * the Dedalus executions docs' warning that "the root filesystem is ephemeral". `/root` is deliberately not
 * mapped: a checkout under /root (CI as root) would otherwise have its own paths rewritten.
 */
export interface MachineDirs {
  base: string;
  home: string;
  rootfs: string;
  tmp: string;
}

export function machineDirs(rootDir: string, machineId: string): MachineDirs {
  const base = join(rootDir, machineId);
  const rootfs = join(base, 'rootfs');
  return {
    base,
    home: join(base, 'home', 'machine'),
    rootfs,
    tmp: join(rootfs, 'tmp'),
  };
}

// A guest path starts at a word boundary that is not part of another path or word, and ends at a
// path separator, quote, shell metacharacter or end of string. One pass, so a mapped host path is
// never mapped again (the host root may itself live under /tmp).
const GUEST_PATH = /(?<![\w./-])(\/home\/machine|\/tmp)(?=$|[/\s'"`;:)|&<>])/g;

/** Rewrites guest paths inside a command line, cwd or script text to this machine's host directories. */
export function mapGuestText(dirs: MachineDirs, text: string): string {
  return text.replace(GUEST_PATH, (m) => (m === '/home/machine' ? dirs.home : dirs.tmp));
}

/**
 * Env values are mapped only when they are paths (or path lists) themselves: a JIT config is base64,
 * and base64 may contain "/tmp" by chance.
 */
export function mapGuestEnvValue(dirs: MachineDirs, value: string): string {
  if (!/^\/(home\/machine|tmp)(\/|$|:)/.test(value)) return value;
  return value
    .split(':')
    .map((part) => mapGuestText(dirs, part))
    .join(':');
}
