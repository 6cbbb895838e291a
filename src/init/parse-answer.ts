import type { AnswerValue, PartialAnswers } from './answers.js';
import type { Question } from './questions.js';
import { parseIntIn } from './validators.js';

export type Parsed = { ok: true; value: AnswerValue } | { ok: false; error: string };

/**
 * One answer, typed or given as a flag, checked by the question's own rule. Flags and the wizard go
 * through this one function, so `--url x` and typing "x" fail with the same sentence.
 */
export async function parseAnswer(
  q: Question,
  raw: string | boolean,
  answers: PartialAnswers,
  cwd: string,
): Promise<Parsed> {
  switch (q.kind) {
    case 'confirm':
      return typeof raw === 'boolean' ? { ok: true, value: raw } : yesNo(raw);
    case 'int': {
      const n = parseIntIn(String(raw), q.min, q.max?.(answers));
      return typeof n === 'number' ? { ok: true, value: n } : { ok: false, error: n };
    }
    case 'choice': {
      const value = String(raw).trim();
      if (q.choices.some((c) => c.value === value)) return { ok: true, value };
      const expected = q.choices.map((c) => `"${c.value}"`).join(', ');
      return { ok: false, error: `expected one of ${expected}, got ${JSON.stringify(value)}` };
    }
    case 'text': {
      const value = q.normalize ? q.normalize(String(raw), cwd) : String(raw);
      const error = await q.check(value, answers);
      return error === undefined ? { ok: true, value } : { ok: false, error };
    }
  }
}

function yesNo(raw: string): Parsed {
  const v = raw.trim().toLowerCase();
  if (['y', 'yes', 'true', '1'].includes(v)) return { ok: true, value: true };
  if (['n', 'no', 'false', '0'].includes(v)) return { ok: true, value: false };
  return { ok: false, error: `expected yes or no, got ${JSON.stringify(raw)}` };
}
