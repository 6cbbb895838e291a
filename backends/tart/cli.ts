import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { anySignal } from '../../src/kernel/abort.js';
import { AnswerWatch } from '../../src/kernel/answers.js';
import { TartCommandError } from './errors.js';

/** How long each kind of call may take before it is cancelled (ms). */
export const TIMEOUTS = {
  quick: 30_000,
  probe: 10_000,
  stop: 60_000,
  exec: 60_000,
  clone: 30 * 60_000,
  pull: 60 * 60_000,
  prune: 10 * 60_000,
} as const;

export interface CallOptions {
  /** Cancels the call (SIGINT first, which tart turns into a clean cancellation). */
  signal?: AbortSignal;
  /** ms; undefined = no limit (long-lived calls such as the runner watcher). */
  timeout?: number;
  /** Written to stdin, then closed. The only way secrets reach tart. */
  input?: string;
  /** VM the call is about, for error messages. */
  vm?: string;
}

export interface RunExit {
  exitCode?: number;
  signal?: string;
  /** The process could not be started (ENOENT…). */
  error?: string;
}

/** A `tart run` child: the VM lives exactly as long as this process. */
export interface RunChild {
  readonly pid: number | undefined;
  readonly exited: Promise<RunExit>;
  /** Lets the daemon exit while the VM keeps running (graceful close without removeAll). */
  unref(): void;
}

/** TART_HOME as every tart call of a backend gets it: `[tart] home`, else $TART_HOME, else ~/.tart. */
export function tartHome(home: string, env: NodeJS.ProcessEnv = process.env): string {
  return home || env.TART_HOME || join(homedir(), '.tart');
}

/**
 * The `tart` binary with TART_HOME pinned: every call, including the supervised `run` children, gets
 * the same home, so VMs, locks and caches never split between two homes.
 */
export class TartCli {
  readonly env: Readonly<Record<string, string>>;
  /** The environment calls run in besides TART_HOME; undefined: this process's own. */
  readonly #base: NodeJS.ProcessEnv | undefined;

  /**
   * Whether tart answers: every call expected to end within a minute (TIMEOUTS.stop) reports here. A
   * long call (clone, pull, prune) or a watcher may run for long without anything being wrong.
   */
  readonly answers = new AnswerWatch();

  /** `baseEnv`: run with exactly that environment (`runner validate` checks the daemon's, not its own). */
  constructor(
    readonly bin: string,
    readonly home: string,
    baseEnv?: NodeJS.ProcessEnv,
  ) {
    this.env = { TART_HOME: home };
    this.#base = baseEnv;
  }

  /** Runs one tart command and returns its stdout; a non-zero exit throws TartCommandError. */
  async call(args: readonly string[], opts: CallOptions = {}): Promise<string> {
    const result = await this.#spawn(args, opts);
    if (result.ok) return result.stdout;
    throw result.error;
  }

  /** Like `call`, but a non-zero exit is a value, not an error (probes, watchers). */
  async attempt(
    args: readonly string[],
    opts: CallOptions = {},
  ): Promise<{ ok: true; stdout: string } | { ok: false; error: TartCommandError; stdout: string }> {
    return this.#spawn(args, opts);
  }

  async #spawn(args: readonly string[], opts: CallOptions) {
    if (opts.timeout === undefined || opts.timeout > TIMEOUTS.stop) return this.#run(args, opts);
    const done = this.answers.sent();
    try {
      const result = await this.#run(args, opts);
      // A non-zero exit is tart answering; a timeout or a tart that could not start is not.
      done(
        !result.ok && result.noAnswer
          ? { kind: 'unanswered', error: result.error.message }
          : { kind: 'answered' },
      );
      return result;
    } catch (err) {
      done({ kind: 'cancelled' });
      throw err;
    }
  }

  async #run(args: readonly string[], opts: CallOptions) {
    const timeout = opts.timeout === undefined ? undefined : AbortSignal.timeout(opts.timeout);
    const cancel = anySignal(opts.signal, timeout);
    const r = await execa(this.bin, args, {
      ...(this.#base ? { env: { ...this.#base, ...this.env }, extendEnv: false } : { env: this.env }),
      cancelSignal: cancel,
      killSignal: 'SIGINT',
      forceKillAfterDelay: 5_000,
      reject: false,
      stdin: opts.input === undefined ? 'ignore' : 'pipe',
      ...(opts.input === undefined ? {} : { input: opts.input }),
    });
    if (opts.signal?.aborted) throw opts.signal.reason;
    const sub = args[0] ?? '';
    if (!r.failed) return { ok: true as const, stdout: r.stdout };
    const stderr = tail(r.stderr);
    let error: TartCommandError;
    // A timeout or a tart that could not start is no answer; an exit code, even a failing one, is one.
    let noAnswer = true;
    if (r.isCanceled) {
      error = new TartCommandError(sub, opts.vm, undefined, stderr, {
        detail: `timed out after ${opts.timeout} ms`,
      });
    } else if (r.exitCode === undefined && r.signal === undefined) {
      // Spawn failure (ENOENT, EACCES): execa's message would quote argv, so keep only the cause's code.
      const code = (r.cause as { code?: string } | undefined)?.code ?? 'spawn failed';
      error = new TartCommandError(sub, opts.vm, undefined, stderr, {
        detail: `could not start ${this.bin} (${code})`,
      });
    } else {
      noAnswer = false;
      error = new TartCommandError(sub, opts.vm, r.exitCode, stderr, {
        ...(r.signal ? { detail: `killed by ${r.signal}` } : {}),
      });
    }
    return { ok: false as const, error, stdout: r.stdout, noAnswer };
  }

  /**
   * Starts `tart run <vm> --no-graphics`. Detached (own process group) so a Ctrl-C in the daemon's
   * terminal or the daemon's exit does not kill a VM that may be running a job. Output goes straight
   * to `logFile` through a native file descriptor: a pipe through the daemon would break the VM's
   * stderr when the daemon goes away. That is why this one call uses child_process rather than execa,
   * which only takes files as streams it pipes itself.
   */
  run(vm: string, logFile: string): RunChild {
    const fd = openSync(logFile, 'a');
    try {
      const child = spawn(this.bin, ['run', vm, '--no-graphics'], {
        env: { ...(this.#base ?? process.env), ...this.env },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      const exited = new Promise<RunExit>((resolve) => {
        child.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
        child.once('exit', (code, signal) =>
          resolve({
            ...(code === null ? {} : { exitCode: code }),
            ...(signal === null ? {} : { signal }),
          }),
        );
      });
      return { pid: child.pid, exited, unref: () => child.unref() };
    } finally {
      closeSync(fd);
    }
  }
}

/** Last lines of a command's stderr: enough to explain a failure, short enough for one log line. */
export function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join('\n').trim();
}
