import { PassThrough } from 'node:stream';
import { confirm, input, password, select } from '@inquirer/prompts';

/** The few kinds of prompt the wizard uses; `validate` answers true or the message to show. */
export interface Prompter {
  text(opts: { message: string; default?: string; validate: Validate }): Promise<string>;
  select(opts: {
    message: string;
    choices: readonly { value: string; name: string; description?: string }[];
    default?: string;
  }): Promise<string>;
  confirm(opts: { message: string; default: boolean }): Promise<boolean>;
  /** Hidden input, for a token that is to be written into the file. */
  secret(opts: { message: string; validate: Validate }): Promise<string>;
  /** A line of text between prompts (warnings, notes). */
  say(line: string): void;
}

export type Validate = (value: string) => Promise<true | string>;

export interface PromptStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Aborts the prompt on screen (Ctrl-C is handled by inquirer itself). */
  signal?: AbortSignal;
}

/**
 * Prompts through @inquirer/prompts on the given streams: the terminal in the CLI, in-memory streams
 * in tests, so the test drives the very prompts a user sees.
 */
export function inquirerPrompter(streams: PromptStreams): Prompter {
  // Each prompt ends the stream it draws on when it is answered. process.stdout survives that, any
  // other stream would not: give every prompt its own pass-through that never ends ours.
  const context = () => {
    const output = new PassThrough();
    output.pipe(streams.output, { end: false });
    return { input: streams.input, output, ...(streams.signal ? { signal: streams.signal } : {}) };
  };
  return {
    text: (o) =>
      input(
        {
          message: o.message,
          ...(o.default !== undefined ? { default: o.default } : {}),
          validate: o.validate,
        },
        context(),
      ),
    select: (o) =>
      select<string>(
        {
          message: o.message,
          choices: o.choices.map((c) => ({ ...c })),
          ...(o.default !== undefined ? { default: o.default } : {}),
        },
        context(),
      ),
    confirm: (o) => confirm({ message: o.message, default: o.default }, context()),
    secret: (o) => password({ message: o.message, mask: '*', validate: o.validate }, context()),
    say: (line) => {
      streams.output.write(`${line}\n`);
    },
  };
}

/** Ctrl-C or an abort at a prompt (inquirer's errors are matched by name: core is not our dependency). */
export function isPromptCancelled(err: unknown): boolean {
  return (
    err instanceof Error && ['ExitPromptError', 'AbortPromptError', 'CancelPromptError'].includes(err.name)
  );
}
