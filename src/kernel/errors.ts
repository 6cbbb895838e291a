/**
 * The base of every error this project raises on purpose. Callers switch on the literal `code`, not on
 * `instanceof`, so a class can be split or moved without breaking them (the undici convention); every
 * code is pinned by one table test (test/kernel/error-codes.test.ts).
 */
export abstract class RunnerError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The `code` of a RunnerError (or of any error that carries a string code), else undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** One line for a log field or a status reason: the message of an Error, else the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
