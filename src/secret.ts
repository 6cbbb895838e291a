import { inspect } from 'node:util';

const REDACTED = '[Redacted]';

/**
 * Every secret registered here is scrubbed from log lines as a raw substring, because path-based
 * redaction only covers the keys it names and a secret can hide inside an error message or URL.
 */
const registry = new Set<string>();

/** Secrets shorter than this are not scrubbed by substring: they would mangle ordinary text. */
const MIN_SCRUB_LENGTH = 8;

export function registerSecret(value: string): void {
  if (value.length >= MIN_SCRUB_LENGTH) registry.add(value);
}

export function forgetSecret(value: string): void {
  registry.delete(value);
}

/** Replaces every registered secret in `text` with `[Redacted]`. */
export function scrub(text: string): string {
  if (registry.size === 0) return text;
  let out = text;
  for (const secret of registry) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * A value that must never be printed. `toString`, `toJSON` and `util.inspect` all yield
 * `[Redacted]`; only `reveal()` gives the value, so every use of a secret is greppable.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }

  reveal(): string {
    return this.#value;
  }

  get empty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
