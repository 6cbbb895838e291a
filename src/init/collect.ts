import {
  type AnswerKey,
  type AnswerValue,
  answersSchema,
  type InitAnswers,
  type PartialAnswers,
} from './answers.js';
import { InitError } from './errors.js';
import { parseAnswer } from './parse-answer.js';
import type { Prompter } from './prompter.js';
import { applies, messageOf, QUESTIONS, type Question } from './questions.js';

export interface CollectOptions {
  /** Raw flag values by answer key, as commander parsed them. */
  given: Partial<Record<AnswerKey, string | boolean>>;
  /** The terminal to ask on; undefined when there is none (then flags must say everything). */
  prompter?: Prompter | undefined;
  /** --yes: take the default of every question that has one instead of asking. */
  acceptDefaults: boolean;
  /** Relative paths in answers start here. */
  cwd: string;
  questions?: readonly Question[];
}

/**
 * Answers every question that applies: from its flag, else its default (with --yes), else the
 * prompter. Every wrong or missing flag is reported at once, so a script is fixed in one go.
 */
export async function collectAnswers(opts: CollectOptions): Promise<InitAnswers> {
  const questions = opts.questions ?? QUESTIONS;
  const answers: PartialAnswers = {};
  const errors: string[] = [];
  const missing: Question[] = [];
  const used = new Set<AnswerKey>();

  for (const q of questions) {
    if (!applies(q, answers)) continue;
    used.add(q.key);
    const raw = opts.given[q.key];
    if (raw !== undefined) {
      const parsed = await parseAnswer(q, raw, answers, opts.cwd);
      if (parsed.ok) set(answers, q.key, parsed.value);
      else errors.push(`${q.flag}: ${parsed.error}`);
      continue;
    }
    const fallback = q.default?.(answers);
    if (fallback !== undefined && opts.acceptDefaults) {
      set(answers, q.key, fallback);
    } else if (opts.prompter) {
      set(answers, q.key, await ask(opts.prompter, q, answers, fallback, opts.cwd));
    } else {
      missing.push(q);
      // Assume the default for the questions after it, so one run lists the whole default branch
      // (--auth missing still reports --token-env).
      if (fallback !== undefined) set(answers, q.key, fallback);
    }
  }

  for (const q of questions) {
    if (opts.given[q.key] !== undefined && !used.has(q.key)) {
      errors.push(`${q.flag}: not used with these answers (${describeBranch(answers)})`);
    }
  }
  if (errors.length > 0) {
    throw new InitError(
      'INIT_USAGE',
      `runner init: ${plural(errors.length, 'flag')} to fix:\n  ${errors.join('\n  ')}`,
    );
  }
  if (missing.length > 0) throw new InitError('INIT_USAGE', missingMessage(missing, answers));
  return answersSchema.parse(answers);
}

async function ask(
  p: Prompter,
  q: Question,
  answers: PartialAnswers,
  fallback: AnswerValue | undefined,
  cwd: string,
): Promise<AnswerValue> {
  const note = q.note?.(answers);
  if (note) p.say(note);
  const message = messageOf(q, answers);
  switch (q.kind) {
    case 'confirm':
      return p.confirm({ message, default: fallback === true });
    case 'choice':
      return p.select({
        message,
        choices: q.choices,
        ...(fallback !== undefined ? { default: String(fallback) } : {}),
      });
    case 'int':
    case 'text': {
      const validate = async (v: string) => {
        const r = await parseAnswer(q, v, answers, cwd);
        return r.ok ? true : r.error;
      };
      const typed = await p.text({
        message,
        validate,
        ...(fallback !== undefined ? { default: String(fallback) } : {}),
      });
      const parsed = await parseAnswer(q, typed, answers, cwd);
      // The prompt only returns once `validate` accepted the text, so this cannot fail.
      if (!parsed.ok) throw new Error(`${q.flag}: ${parsed.error}`);
      return parsed.value;
    }
  }
}

function set(answers: PartialAnswers, key: AnswerKey, value: AnswerValue): void {
  // Types are checked once for all answers by answersSchema at the end.
  Object.assign(answers, { [key]: value });
}

function missingMessage(missing: readonly Question[], answers: PartialAnswers): string {
  const width = Math.max(...missing.map((q) => q.flag.length));
  const lines = missing.map((q) => {
    const fallback = q.default?.(answers);
    const why = fallback === undefined ? 'required' : `default ${JSON.stringify(fallback)}; --yes accepts it`;
    return `  ${q.flag.padEnd(width)}  ${messageOf(q, answers)} (${why})`;
  });
  return [
    'runner init: no terminal to ask on, and these answers are missing:',
    ...lines,
    'Pass them as flags (runner init --help lists them all), or run runner init in a terminal.',
  ].join('\n');
}

function describeBranch(a: PartialAnswers): string {
  return [a.auth && `auth ${a.auth}`, a.backend && `backend ${a.backend}`].filter(Boolean).join(', ');
}

function plural(n: number, word: string): string {
  return n === 1 ? `1 ${word}` : `${n} ${word}s`;
}
