import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SOCKET_PATH, processAlive } from '../../src/state/lock-entry.js';
import {
  acquireStateDirLock,
  inspectStateDirLock,
  LOCK_DIR,
  type StateDirLock,
  StateDirLockError,
} from '../../src/state/state-dir-lock.js';
import { LockChild } from '../support/state-dir-lock.js';

let stateDir: string;
const children: LockChild[] = [];
const held: StateDirLock[] = [];
const servers: Server[] = [];
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'runner-lock-'));
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  await Promise.all(held.splice(0).map((l) => l.release()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await rm(stateDir, { recursive: true, force: true });
});

const lockDir = () => join(stateDir, LOCK_DIR);

async function holder(command = 'runner run'): Promise<LockChild> {
  const { child, outcome } = await LockChild.take({ stateDir, command });
  children.push(child);
  expect(outcome).toMatchObject({ held: true, pid: child.pid });
  return child;
}

async function acquire(opts: Parameters<typeof acquireStateDirLock>[2] = {}): Promise<StateDirLock> {
  const lock = await acquireStateDirLock(stateDir, { command: 'runner test' }, opts);
  held.push(lock);
  return lock;
}

async function refusal(opts: Parameters<typeof acquireStateDirLock>[2] = {}): Promise<StateDirLockError> {
  const err = await acquire(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StateDirLockError);
  return err as StateDirLockError;
}

/** The pid of a process that has exited (and been reaped), so nothing answers for it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

/** A socket file nobody listens on, as a killed process leaves it: bound, renamed, then closed. */
async function staleSocket(name: string): Promise<void> {
  await mkdir(lockDir(), { recursive: true });
  const server = createServer();
  const tmp = join(lockDir(), 'tmp.sock');
  await new Promise<void>((resolve) => server.listen(tmp, resolve));
  await rename(tmp, join(lockDir(), name));
  await new Promise((resolve) => server.close(resolve));
}

describe('state-dir lock (real processes)', () => {
  it('a second taker is refused without waiting, told the holder’s pid and command', async () => {
    const first = await holder('runner run');
    const err = await refusal();
    expect(err.code).toBe('STATE_DIR_IN_USE');
    expect(err.holder?.pid).toBe(first.pid);
    expect(err.message).toContain(`state-dir ${stateDir} is in use by pid ${first.pid} (runner run, since `);
    expect(err.message).toContain('Stop that daemon first');
    // The refused one leaves nothing behind: only the holder's entry is there.
    expect(await readdir(lockDir())).toHaveLength(1);
  });

  it('kill -9 of the holder frees it at once: the next taker gets it and removes the dead entry', async () => {
    const first = await holder();
    const [deadEntry] = await readdir(lockDir());
    await first.kill('SIGKILL');
    // Reading does not clean: the dead entry is still there, and it is known to be dead.
    expect(await inspectStateDirLock(stateDir)).toEqual({ state: 'free' });
    expect(await readdir(lockDir())).toEqual([deadEntry]);

    const second = await LockChild.take({ stateDir, command: 'runner run' });
    children.push(second.child);
    expect(second.outcome).toMatchObject({ held: true, pid: second.child.pid });
    expect(await readdir(lockDir())).toEqual([
      second.outcome.held ? second.outcome.path.split('/').at(-1) : '',
    ]);
  });

  it('a process the holder started (as tart run is) does not keep the lock once the holder is dead', async () => {
    const { child, outcome } = await LockChild.take({ stateDir, command: 'runner run', grandchild: true });
    children.push(child);
    const grandchild = outcome.held ? outcome.grandchildPid : undefined;
    expect(grandchild).toBeGreaterThan(0);
    try {
      await child.kill('SIGKILL');
      expect(processAlive(grandchild!)).toBe(true);
      expect(await inspectStateDirLock(stateDir)).toEqual({ state: 'free' });
      await acquire();
    } finally {
      process.kill(grandchild!, 'SIGKILL');
    }
  });

  it('inspect names the holder without taking the lock or changing anything', async () => {
    expect(await inspectStateDirLock(stateDir)).toEqual({ state: 'free' });
    const first = await holder('runner doctor --fix');
    const before = await readdir(lockDir());
    const seen = await inspectStateDirLock(stateDir);
    expect(seen).toMatchObject({
      state: 'held',
      taking: false,
      holder: { pid: first.pid, command: 'runner doctor --fix' },
    });
    expect(await readdir(lockDir())).toEqual(before);
    const err = await refusal();
    expect(err.message).toContain('Wait for it to finish');
  });

  it('a release frees it for the next process and removes its entry', async () => {
    const first = await holder();
    await first.release();
    expect(await readdir(lockDir())).toEqual([]);
    const lock = await acquire();
    expect(await inspectStateDirLock(stateDir)).toMatchObject({
      state: 'held',
      holder: { pid: process.pid },
    });
    await lock.release();
    expect(await inspectStateDirLock(stateDir)).toEqual({ state: 'free' });
    expect(await readdir(lockDir())).toEqual([]);
  });

  it('of processes racing for it at the same instant, exactly one holds it', async () => {
    for (let round = 0; round < 3; round++) {
      const racers = await Promise.all(
        Array.from({ length: 4 }, () => LockChild.load({ stateDir, command: 'runner run' })),
      );
      children.push(...racers);
      const outcomes = await Promise.all(racers.map((r) => r.go()));
      const winners = outcomes.filter((o) => o.held);
      expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
      for (const o of outcomes) {
        if (!o.held) expect(o.code).toBe('STATE_DIR_IN_USE');
      }
      expect(await readdir(lockDir())).toHaveLength(1);
      await Promise.all(racers.map((r) => r.kill()));
    }
  });
});

describe('state-dir lock: entries that are not what they seem', () => {
  it('a listener that accepts but never answers is a holder, not a stale entry', async () => {
    await mkdir(lockDir(), { recursive: true });
    const mute = createServer(() => {});
    servers.push(mute);
    await new Promise<void>((resolve) => mute.listen(join(lockDir(), `${process.pid}-0000abcd`), resolve));
    const err = await refusal({ answerTimeoutMs: 200 });
    expect(err.code).toBe('STATE_DIR_IN_USE');
    expect(err.message).toContain(`pid ${process.pid} (did not say what it is)`);
  });

  it('an entry nobody listens on is dead even when its pid is alive (a reused pid), and is removed', async () => {
    // Our own pid is certainly alive: the lock asks again a few times, then calls it dead.
    await staleSocket(`${process.pid}-0000beef`);
    await acquire({ refusedRetryMs: 10 });
    expect(await readdir(lockDir())).not.toContain(`${process.pid}-0000beef`);
  });

  it('pending entries of dead processes are removed, those of live ones and unrelated files left alone', async () => {
    const dead = await deadPid();
    await staleSocket(`.${dead}-0000aaaa`);
    await staleSocket(`.${process.pid}-0000bbbb`);
    await staleSocket('not-an-entry');
    const lock = await acquire();
    expect((await readdir(lockDir())).sort()).toEqual(
      [`.${process.pid}-0000bbbb`, 'not-an-entry', lock.path.split('/').at(-1)].sort(),
    );
  });

  it('a state-dir too long for a unix socket path is refused with the limit and what to do', async () => {
    stateDir = join(stateDir, 'x'.repeat(MAX_SOCKET_PATH));
    const err = await refusal();
    expect(err.code).toBe('STATE_DIR_LOCK_FAILED');
    expect(err.message).toContain(`at most ${MAX_SOCKET_PATH} bytes`);
    expect(err.message).toContain('choose a shorter state-dir');
  });
});
