import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { cliBundle, node24 } from '../../cmd/support/built-cli.js';

/** One line the daemon wrote to stderr: parsed when it is pino JSON, kept raw either way. */
export interface LogLine {
  raw: string;
  json: Record<string, unknown> | undefined;
  /** The pipe it came on: the daemon logs to stderr, and to stdout when stderr broke. */
  stream: 'stdout' | 'stderr';
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * `runner run --config <file>` as a user starts it: the shipped CLI bundle under Node 24, in its own
 * process, with stderr (the logs) captured line by line so tests can wait on and search them.
 */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  readonly #child: ChildProcess;
  readonly #events = new EventEmitter();

  /** Whether the child leads a process group of its own (spawn): cleanup then kills the whole group. */
  readonly #group: boolean;

  private constructor(child: ChildProcess, group = false) {
    this.#child = child;
    this.#group = group;
    this.#events.setMaxListeners(0);
    // Both streams are read to the end, so a chatty daemon never blocks on a full pipe.
    for (const name of ['stderr', 'stdout'] as const) {
      const stream = child[name];
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (raw) => {
        this.lines.push({ raw, json: parseJson(raw), stream: name });
        this.#events.emit('change');
      });
    }
    // 'close' (not 'exit') fires after the pipes are drained, so every line is in `lines` by then.
    this.exited = new Promise<Exit>((resolve) => {
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        this.#events.emit('change');
        resolve(this.#exit);
      });
    });
  }

  static async start(configFile: string, env: NodeJS.ProcessEnv): Promise<DaemonProcess> {
    const child = spawn(node24, [await cliBundle(), 'run', '--config', configFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new DaemonProcess(child);
  }

  /**
   * The daemon started by some other command (npx, a shell), in a process group of its own as a
   * terminal or a supervisor would give it; `pid` is that outer command's. The logs are read from the
   * pipes the whole tree inherits, so `exited` resolves only once every process holding them is gone.
   */
  static spawn(file: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): DaemonProcess {
    const child = spawn(file, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new DaemonProcess(child, true);
  }

  get pid(): number {
    if (this.#child.pid === undefined) throw new Error('daemon process did not start');
    return this.#child.pid;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  get text(): string {
    return this.lines.map((l) => l.raw).join('\n');
  }

  /** Parsed pino lines whose message is `msg` (exact). */
  logs(msg: string): Record<string, unknown>[] {
    return this.lines.flatMap((l) => (l.json && l.json.msg === msg ? [l.json] : []));
  }

  /**
   * Closes this side of the daemon's stdout or stderr pipe, as a log reader that dies does (a `tee`
   * killed by Ctrl-C, a fifo's reader gone): the daemon's next write there fails with EPIPE. Lines
   * already read stay in `lines`.
   */
  closePipe(which: 'stdout' | 'stderr'): void {
    this.#child[which]?.destroy();
  }

  signal(sig: NodeJS.Signals): void {
    if (this.#exit === undefined) this.#child.kill(sig);
  }

  /** The last lines, for failure messages: a failed wait should explain itself. */
  tail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => l.raw)
      .join('\n');
  }

  /**
   * Resolves with the first log line matching `pred` (already written or yet to come). Rejects when the
   * deadline passes or the process exits without writing one.
   */
  waitForLog(pred: (line: LogLine) => boolean, opts: { timeout?: number; what: string }): Promise<LogLine> {
    return new Promise<LogLine>((resolve, reject) => {
      let seen = 0;
      const check = (): boolean => {
        for (; seen < this.lines.length; seen++) {
          const line = this.lines[seen]!;
          if (pred(line)) {
            done();
            resolve(line);
            return true;
          }
        }
        if (this.#exit) {
          done();
          reject(new Error(`daemon exited (${JSON.stringify(this.#exit)}) before logging ${opts.what}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${opts.timeout ?? 20_000} ms waiting for log: ${opts.what}\n${this.tail()}`,
          ),
        );
      }, opts.timeout ?? 20_000);
      const done = () => {
        clearTimeout(timer);
        this.#events.off('change', check);
      };
      if (!check()) this.#events.on('change', check);
    });
  }

  /** Resolves with the exit, or rejects (with the log tail) if the process is still running at the deadline. */
  async waitForExit(timeout: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`daemon still running after ${timeout} ms\n${this.tail()}`)),
        timeout,
      );
    });
    try {
      return await Promise.race([this.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For afterEach: whatever state the test left it in, the process is gone afterwards. */
  async kill(): Promise<void> {
    if (this.#group && this.#child.pid !== undefined) {
      try {
        process.kill(-this.#child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    if (this.#exit) return;
    this.#child.kill('SIGKILL');
    await this.exited;
  }
}

function parseJson(raw: string): Record<string, unknown> | undefined {
  if (!raw.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
