// A process that takes a state-dir lock the way runner's own commands do, for tests that need a
// holder they can kill -9 or race. Usage: node --import tsx lock-child.ts '<json LockChildArgs>'.
// Prints "loaded", waits for a line on stdin ("go"), tries the lock, prints one JSON line with the
// outcome, then holds what it got until stdin closes (released) or it is killed.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { acquireStateDirLock } from '../../src/state/state-dir-lock.js';

export interface LockChildArgs {
  stateDir: string;
  command: string;
  /** Once it holds the lock, start a long-lived grandchild (as the Tart backend starts `tart run`). */
  grandchild?: boolean;
}

export type LockChildOutcome =
  | { held: true; path: string; pid: number; grandchildPid?: number }
  | { held: false; code: string; message: string; holderPid: number | undefined };

const args = JSON.parse(process.argv[2] ?? '{}') as LockChildArgs;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('loaded\n');
await lines.next();
let outcome: LockChildOutcome;
let release = async () => {};
try {
  const lock = await acquireStateDirLock(args.stateDir, { command: args.command });
  release = () => lock.release();
  outcome = { held: true, path: lock.path, pid: process.pid };
  if (args.grandchild) {
    const g = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    g.unref();
    if (g.pid !== undefined) outcome.grandchildPid = g.pid;
  }
} catch (err) {
  const e = err as { code?: string; message?: string; holder?: { pid: number } };
  outcome = {
    held: false,
    code: e.code ?? 'ERROR',
    message: e.message ?? String(err),
    holderPid: e.holder?.pid,
  };
}
process.stdout.write(`${JSON.stringify(outcome)}\n`);
// Held until stdin ends: the test's "release" is closing it.
while (!(await lines.next()).done) {}
await release();
process.stdout.write('released\n');
