/**
 * Errors in the text log format, for people: the message once, its code, and what caused it, on the
 * line of the event:
 *
 *   WARN  [linux/r1] runner start failed: pull of img failed (DOCKER_PULL_FAILED) ← connect ECONNREFUSED /var/run/docker.sock (ECONNREFUSED)
 *
 * pino's own serializer (kept for the JSON format, where collectors expect it) folds the causes into
 * the message and the stack, so the text form printed the message twice and a stack with every line.
 * Here the stack is printed (indented, under the line) only where it adds something: at debug and
 * trace, or for an error with no code anywhere in its chain, which no part of runner raised on purpose
 * (a TypeError is a bug, and its stack is what the bug report needs).
 */

export interface TextError {
  type: string;
  /** The error's own message, without its causes'. */
  message: string;
  code?: string;
  cause?: TextError;
  /** The `at …` lines, present only when worth printing. */
  stack?: string[];
}

/** Causes followed at most this deep: a cycle (a.cause = b, b.cause = a) must end. */
const CAUSE_DEPTH = 5;

/** The `err`/`error` serializer of the text format; `stacks`: print every stack (debug and trace). */
export function textErrorSerializer(stacks: boolean): (value: unknown) => unknown {
  return (value) => {
    if (!(value instanceof Error)) return value;
    const error = toTextError(value, CAUSE_DEPTH);
    return stacks || !hasCode(error) ? withStacks(error, value, CAUSE_DEPTH) : error;
  };
}

function toTextError(err: Error, depth: number): TextError {
  const out: TextError = { type: err.name || 'Error', message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
  const cause = err.cause;
  if (cause !== undefined && cause !== null && depth > 1) {
    out.cause =
      cause instanceof Error ? toTextError(cause, depth - 1) : { type: typeof cause, message: String(cause) };
  }
  return out;
}

function hasCode(e: TextError | undefined): boolean {
  return e !== undefined && (e.code !== undefined || hasCode(e.cause));
}

function withStacks(out: TextError, err: unknown, depth: number): TextError {
  if (!(err instanceof Error)) return out;
  const lines = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const cause = out.cause && depth > 1 ? withStacks(out.cause, err.cause, depth - 1) : out.cause;
  return {
    ...out,
    ...(lines.length > 0 ? { stack: lines.map((l) => l.trim()) } : {}),
    ...(cause ? { cause } : {}),
  };
}

/** A value the text serializer made (after the JSON round trip). */
export function isTextError(value: unknown): value is TextError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === 'string' && typeof v.message === 'string';
}

/** `message (CODE) ← cause (CODE)`: a cause whose message its parent already quotes shows only its code. */
export function renderError(e: TextError): string {
  const parts: string[] = [];
  let said = '';
  for (let at: TextError | undefined = e; at; at = at.cause) {
    const code = at.code === undefined ? '' : `(${at.code})`;
    // Without a code the class is the only name the error has: "TypeError: …".
    const named = at.code === undefined && at.type !== 'Error' ? `${at.type}: ${at.message}` : at.message;
    const message = at.message !== '' && !said.includes(at.message) ? named : '';
    const part = [message, code].filter(Boolean).join(' ');
    if (part !== '') parts.push(part);
    said += ` ${at.message}`;
  }
  return parts.join(' ← ');
}

/** The stacks an error carries, indented under the log line, each cause's after a "caused by" line. */
export function renderStacks(e: TextError): string {
  const out: string[] = [];
  for (let at: TextError | undefined = e; at; at = at.cause) {
    if (!at.stack) continue;
    if (at !== e) out.push(`    caused by ${at.type}: ${at.message}`);
    out.push(...at.stack.map((line) => `    ${line}`));
  }
  return out.length > 0 ? `\n${out.join('\n')}` : '';
}
