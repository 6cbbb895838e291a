import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';

/** Keys as a terminal sends them. */
export const KEY = {
  enter: '\r',
  down: '\u001b[B',
  up: '\u001b[A',
  /** Ctrl-U: readline deletes the line typed so far. */
  clearLine: '\u0015',
} as const;

/**
 * A terminal in memory for @inquirer/prompts: what the prompts draw lands in `screen` (ANSI codes
 * removed), and `answer()` types only once the expected question is on screen, so the test waits on
 * what the user would see instead of on a timer.
 */
export class PromptDriver {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  #screen = '';
  /** Where the text of the current question starts. */
  #mark = 0;
  #waiters: (() => void)[] = [];

  constructor() {
    this.output.on('data', (chunk: Buffer) => {
      this.#screen += stripVTControlCharacters(chunk.toString('utf8'));
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Everything drawn so far. */
  get screen(): string {
    return this.#screen;
  }

  /** Resolves when `what` has been drawn since the last answer; fails after `timeoutMs`. */
  async waitFor(what: string | RegExp, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const seen = () => {
      const text = this.#screen.slice(this.#mark);
      return typeof what === 'string' ? text.includes(what) : what.test(text);
    };
    while (!seen()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `prompt never showed ${String(what)}; screen since last answer:\n${this.#screen.slice(this.#mark)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the question, then types `keys`. */
  async answer(question: string | RegExp, keys: string): Promise<void> {
    await this.waitFor(question);
    this.#mark = this.#screen.length;
    this.input.write(keys);
  }

  /** Types without waiting for a new question (e.g. correcting an answer the prompt rejected). */
  type(keys: string): void {
    this.#mark = this.#screen.length;
    this.input.write(keys);
  }
}
