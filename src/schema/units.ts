/**
 * Durations and sizes as people write them in config files. Both return `undefined` for input they
 * cannot read, so the caller (a zod field) owns the error message and names the key.
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/**
 * "30s", "5m", "1h30m", "7d", "250ms" or a bare number of seconds (a TOML integer or a string of
 * digits, so that `idle-timeout = "0"` and `RUNNER_DRAIN_TIMEOUT=90` both read naturally).
 * Returns milliseconds.
 */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? Math.round(input * 1_000) : undefined;
  }
  const text = input.trim().toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000);
  if (text === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The inverse, for messages: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

/** For a span of time in a message, to the whole second (at least 1s): 130400 → "2m10s". */
export function formatSeconds(ms: number): string {
  return formatDuration(Math.max(1000, Math.round(ms / 1000) * 1000));
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/i;
const SIZE_POWERS: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4 };

/**
 * "512m", "8g", "4GiB", "1.5g" or a bare number in `unit` (bytes, or MiB for keys named that way).
 * Suffixes are binary whatever their spelling, as `docker run --memory` reads them, so "4g" and
 * "4GB" both mean 4 GiB. Returns a whole number of `unit`, or undefined when it is not one.
 */
export function parseSize(input: string | number, unit: 'bytes' | 'MiB' = 'bytes'): number | undefined {
  const unitBytes = unit === 'MiB' ? 1024 ** 2 : 1;
  let bytes: number;
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) return undefined;
    bytes = input * unitBytes;
  } else {
    const match = SIZE.exec(input.trim());
    if (!match) return undefined;
    const [, amount, prefix = '', suffix = ''] = match;
    if (prefix === '' && suffix.toLowerCase().startsWith('i')) return undefined;
    // A bare number in a string counts in `unit`, like the TOML integer; "512b" is always bytes.
    const scale =
      prefix === '' && suffix === '' ? unitBytes : 1024 ** (SIZE_POWERS[prefix.toLowerCase()] as number);
    bytes = Number(amount) * scale;
  }
  const value = bytes / unitBytes;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The inverse, for messages: 6291456 → "6MiB", 1099511627776 → "1TiB"; the largest unit that divides evenly. */
export function formatSize(bytes: number): string {
  for (const [unit, power] of [
    ['TiB', 4],
    ['GiB', 3],
    ['MiB', 2],
    ['KiB', 1],
  ] as const) {
    const size = 1024 ** power;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
