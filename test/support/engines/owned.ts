import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { pollUntil } from '../../../src/util/poll-until.js';

/**
 * Everything a private engine owns on the machine lives under one directory per engine, named after
 * the process that made it: `<pid>-<start time>-<n>` under ENGINES_ROOT. A later run that finds a
 * directory whose process is gone (a test worker killed on timeout, a crashed bench) knows it is
 * garbage: its processes are killed, its mounts unmounted, its bridge deleted (sweep.ts). The start
 * time makes a reused pid harmless.
 */
export const ENGINES_ROOT = join(tmpdir(), 'runner-engines');

const OWNED_DIR = /^(\d+)-(\d+)-\d+$/;

export interface ProcStat {
  ppid: number;
  /** R, S, D, T, Z (zombie: dead, waiting to be reaped), ... */
  state: string;
  /** Clock ticks since boot: with the pid, identifies one process across pid reuse. */
  startTime: string;
}

/** /proc/<pid>/stat, or undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: rest[19] ?? '' };
}

/** A process that runs (a zombie has exited: only its parent has not collected it yet). */
export function isLive(pid: number, startTime?: string): boolean {
  const stat = procStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

const self = `${process.pid}-${procStat(process.pid)?.startTime ?? '0'}`;
let dirs = 0;

/** This process, as written into the names of what it owns. */
export function ownerTag(): string {
  return self;
}

/** Whether the owner recorded as `<pid>-<start time>` (a dir name's or claim's prefix) still runs. */
export function ownerLive(tag: string): boolean {
  const m = /^(\d+)-(\d+)/.exec(tag);
  if (!m) return true; // not ours to judge
  return isLive(Number(m[1]), m[2]);
}

/**
 * Runs `fn` holding the machine-wide lock of private engines (subnet claims, sweeps): a unix socket
 * in the abstract namespace, which only one process can listen on and which the kernel releases when
 * its process dies, so a crashed holder never blocks the next run. Not reentrant.
 */
export async function withEnginesLock<T>(fn: () => Promise<T>): Promise<T> {
  const server = await pollUntil(listenLock, {
    timeout: 120_000,
    interval: 25,
    what: 'the private engines lock (another test process holds it)',
  });
  try {
    return await fn();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A server listening on LOCK, or false when another one does. */
function listenLock(): Promise<Server | false> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    });
    server.listen({ path: LOCK }, () => resolve(server));
  });
}

const LOCK = '\0runner-engines.lock';

/** A new directory owned by this process, under ENGINES_ROOT. */
export async function ownedDir(): Promise<string> {
  const dir = join(ENGINES_ROOT, `${self}-${++dirs}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The owned directories under ENGINES_ROOT whose process is gone. */
export function deadOwnedDirs(): string[] {
  let names: string[];
  try {
    names = readdirSync(ENGINES_ROOT);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      const m = OWNED_DIR.exec(n);
      return m !== null && !isLive(Number(m[1]), m[2]);
    })
    .map((n) => join(ENGINES_ROOT, n));
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The containerd namespace of the engine in `dir`: its own even when a system containerd serves several. */
export function containerdNamespace(dir: string): string {
  return `runner-engine-${basename(dir)}`;
}

/** A process's command line, arguments joined by spaces ('' for a zombie or a process gone). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * Live processes whose command line names a path under `dir` (dockerd, its containerd, the
 * containerd shims, sshd) or the engine's containerd namespace (shims of a shared system containerd),
 * with all their descendants (the containers' processes), never this one.
 */
export function processesUnder(dir: string): number[] {
  const pids = allPids();
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const stat = procStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  const found = new Set<number>();
  const visit = (pid: number) => {
    if (found.has(pid) || pid === process.pid) return;
    found.add(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  const ns = containerdNamespace(dir);
  const names = (line: string) =>
    line.includes(`${dir}/`) || line.endsWith(dir) || line.includes(`${dir} `) || line.includes(` ${ns} `);
  for (const pid of pids) {
    if (names(cmdline(pid))) visit(pid);
  }
  return [...found].filter((pid) => isLive(pid));
}

/** SIGKILLs processesUnder(dir) and waits until none runs. */
export async function killProcessesUnder(dir: string): Promise<void> {
  const pids = processesUnder(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await pollUntil(() => pids.every((pid) => !isLive(pid)), {
    timeout: 10_000,
    what: `processes of ${dir} to die after SIGKILL`,
  });
}

/** Mount points at or under `dir` (this process's mount namespace, the engines' too). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replaceAll('\\040', ' '))
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Unmounts everything at or under `dir`, deepest first (lazily: a dying process may still hold one). */
export async function unmountUnder(dir: string): Promise<void> {
  const points = mountsUnder(dir).sort((a, b) => b.length - a.length);
  for (const point of points) await execa('umount', ['-l', point], { reject: false, stdin: 'ignore' });
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`could not unmount ${left.join(', ')}`);
}
