import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LockChildArgs, LockChildOutcome } from './lock-child.js';

const CHILD = fileURLToPath(new URL('./lock-child.ts', import.meta.url));

/**
 * Another process contending for a state-dir lock (test/support/lock-child.ts), for tests and fault
 * harnesses: `load()` it, `go()` to make it try, then `kill('SIGKILL')` it (a crash) or `release()`.
 * Loading and trying are separate steps so several can be made to try at the same moment.
 */
export class LockChild {
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #pending: string[] = [];
  readonly #waiters: ((line: string | undefined) => void)[] = [];
  readonly exited: Promise<unknown>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = once(child, 'exit');
    this.#lines = createInterface({ input: child.stdout! });
    this.#lines.on('line', (line) => {
      const w = this.#waiters.shift();
      if (w) w(line);
      else this.#pending.push(line);
    });
    this.#lines.on('close', () => {
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
  }

  /** Starts the process; resolves once it is loaded and waiting for `go()`. */
  static async load(args: LockChildArgs): Promise<LockChild> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const c = new LockChild(child);
    const first = await c.#next(60_000);
    if (first !== 'loaded') throw new Error(`lock child said ${JSON.stringify(first)} instead of "loaded"`);
    return c;
  }

  /** load() then go(): a holder (or a refused contender) in one step. */
  static async take(args: LockChildArgs): Promise<{ child: LockChild; outcome: LockChildOutcome }> {
    const child = await LockChild.load(args);
    return { child, outcome: await child.go() };
  }

  get pid(): number {
    if (this.#child.pid === undefined) throw new Error('lock child did not start');
    return this.#child.pid;
  }

  /** Lets it try the lock; resolves with what it got. */
  async go(timeoutMs = 20_000): Promise<LockChildOutcome> {
    this.#child.stdin!.write('go\n');
    const line = await this.#next(timeoutMs);
    if (line === undefined) throw new Error('lock child exited before answering');
    return JSON.parse(line) as LockChildOutcome;
  }

  /** Releases the lock the way a clean exit does, and waits for the process to end. */
  async release(): Promise<void> {
    this.#child.stdin!.end();
    await this.exited;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill(signal);
    await this.exited;
  }

  #next(timeoutMs: number): Promise<string | undefined> {
    const ready = this.#pending.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const waiter = (line: string | undefined) => {
        clearTimeout(timer);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`lock child silent for ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
