import { InvalidArgumentError } from 'commander';
import { TIMER_MAX_MS } from '../src/schema/fields.js';

const MAX_SECONDS = TIMER_MAX_MS / 1000;

/**
 * Parses a `--timeout`-style option: a number of seconds above zero, at most 24 days (a longer timer
 * fires at once in Node.js, so `--timeout 1e12` would time out immediately rather than never).
 */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_SECONDS) {
    throw new InvalidArgumentError(`expected a number of seconds > 0, at most ${MAX_SECONDS} (24 days)`);
  }
  return n;
}
