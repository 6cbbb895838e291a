import { Writable } from 'node:stream';

/** One place log lines can go: a name for the note, and the stream. */
export interface LogTarget {
  name: string;
  stream: NodeJS.WritableStream;
}

/** Told once per switch: `failed` broke with `error`; lines now go to `next` (undefined: nowhere). */
export type OnLogSwitch = (failed: string, error: string, next: string | undefined) => void;

/**
 * Log lines to the first target that still works. A destination that breaks (EPIPE when the reader of a
 * pipe, a fifo or `| tee` is gone; EIO when the terminal went away) never stops the process: its lines
 * move on to the next target, the line that failed included, and when none is left they are dropped.
 * Writes never fail and never throw, so nothing that logs can be brought down by where its logs go.
 */
export class FallbackDestination extends Writable {
  readonly #targets: readonly LogTarget[];
  #current = 0;
  #onSwitch: OnLogSwitch | undefined;

  constructor(targets: readonly LogTarget[], onSwitch?: OnLogSwitch) {
    super({ decodeStrings: false });
    this.#targets = targets;
    this.#onSwitch = onSwitch;
    // A failure may surface as an 'error' event with no write of ours waiting (Node emits it on the
    // stream for a failed synchronous write too); unhandled, that event would end the process.
    for (const t of targets) t.stream.on('error', (err: Error) => this.#failed(t, err));
  }

  /** Whom to tell about a switch; set after construction by the logger that logs the note. */
  set onSwitch(fn: OnLogSwitch | undefined) {
    this.#onSwitch = fn;
  }

  /** Name of the target lines go to now; undefined once every target broke. */
  get current(): string | undefined {
    return this.#targets[this.#current]?.name;
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#send(chunk);
    cb();
  }

  #send(chunk: Buffer | string): void {
    const target = this.#targets[this.#current];
    if (!target) return;
    try {
      target.stream.write(chunk, (err?: Error | null) => {
        if (err) this.#failed(target, err, chunk);
      });
    } catch (err) {
      this.#failed(target, err as Error, chunk);
    }
  }

  /** `chunk`: the line whose write failed, re-sent to whichever target is current afterwards. */
  #failed(target: LogTarget, err: Error, chunk?: Buffer | string): void {
    const index = this.#targets.indexOf(target);
    if (index === this.#current) {
      this.#current++;
      this.#onSwitch?.(target.name, errorName(err), this.current);
    }
    // Only a line that failed on a target we have since left is re-sent; one that failed on a later
    // target than the current cannot exist, as lines only ever go to the current one.
    if (chunk !== undefined && index < this.#current) this.#send(chunk);
  }
}

function errorName(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

/**
 * Where the CLI logs: stderr (what a terminal, journald and `2>file` expect), and when stderr breaks,
 * stdout, which under a service manager is usually another stream to the same journal; when both
 * break, nowhere. The process goes on working and draining either way.
 */
export function stdioLogDestination(): FallbackDestination {
  return new FallbackDestination([
    { name: 'stderr', stream: process.stderr },
    { name: 'stdout', stream: process.stdout },
  ]);
}

/**
 * Makes a broken stdout or stderr harmless for everything else that writes there (command output,
 * commander's messages, Node's own warnings): without a listener, the 'error' event of a failed write
 * (EPIPE from `runner validate | head -1`, a closed terminal) is an uncaught exception.
 */
export function tolerateBrokenStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => {});
  }
}
