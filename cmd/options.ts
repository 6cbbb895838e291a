import { InvalidArgumentError } from 'commander';

/** Parses a `--timeout`-style option: a number of seconds above zero. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds > 0');
  return n;
}
