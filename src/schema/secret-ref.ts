import { inspect } from 'node:util';
import { Secret } from '../secret.js';
import type { ProblemLocation } from './location.js';

const ENV_PREFIX = 'env:';

/**
 * A secret as written in the config: a literal, or `env:VAR` to be read from the environment.
 * References are resolved only for the scale sets that use them, so a default such as
 * `api-key = "env:DEDALUS_API_KEY"` costs nothing to a Docker-only config.
 */
export class SecretRef {
  /** Set for `env:VAR`. */
  readonly variable: string | undefined;
  /** Set for a literal, wrapped at once so it is scrubbed from logs from here on. */
  readonly literal: Secret | undefined;
  /** Where the reference was written, for messages; unset for a default. */
  origin: ProblemLocation | undefined;

  constructor(text: string) {
    if (text.startsWith(ENV_PREFIX)) {
      this.variable = text.slice(ENV_PREFIX.length).trim();
    } else {
      this.literal = new Secret(text);
    }
  }

  /** The secret, or a sentence saying which variable is missing. */
  resolve(env: NodeJS.ProcessEnv): { secret: Secret } | { missing: string } {
    if (this.literal) return { secret: this.literal };
    const value = env[this.variable ?? ''];
    if (value === undefined || value === '') {
      return {
        missing: `environment variable ${this.variable} is not set (from "${ENV_PREFIX}${this.variable}")`,
      };
    }
    return { secret: new Secret(value) };
  }

  toString(): string {
    return this.variable === undefined ? '[Redacted]' : `${ENV_PREFIX}${this.variable}`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return `SecretRef(${this.toString()})`;
  }
}

/** True for `env:NAME` where NAME is a usable variable name; literals are always fine. */
export function isValidSecretText(text: string): boolean {
  if (text.length === 0) return false;
  if (!text.startsWith(ENV_PREFIX)) return true;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(text.slice(ENV_PREFIX.length).trim());
}
