import { RunnerError } from '../kernel/errors.js';

/**
 * Job-message times (§7.1): RFC 3339 with any number of fractional digits (.NET sends 7, which
 * `Date.parse` does not promise to accept). Go's zero time, null and absence all mean "unset".
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** 0001-01-01T00:00:00Z in epoch ms: `Date.UTC` maps years 0–99 to 19xx, so it is built by hand. */
const GO_ZERO_TIME_MS = utcMs(1, 1, 1, 0, 0, 0, 0);

export class WireTimeError extends RunnerError {
  readonly code = 'INVALID_WIRE_TIME' as const;
}

/**
 * A job's times come again in each of its four messages, and a burst's jobs share queue times: a small
 * memo of recent answers saves most of the parsing. Cleared when full, so it stays bounded.
 */
const recent = new Map<string, string | null>();
const RECENT_MAX = 1024;

/** Returns a canonical `toISOString()` value (millisecond precision) or null for unset times. */
export function parseWireTime(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string')
    throw new WireTimeError(`expected an RFC 3339 time string, got ${typeof value}`);
  const known = recent.get(value);
  if (known !== undefined) return known;
  const parsed = parseRfc3339(value);
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(value, parsed);
  return parsed;
}

function parseRfc3339(value: string): string | null {
  const m = RFC3339.exec(value);
  if (!m) throw new WireTimeError(`not an RFC 3339 time: ${JSON.stringify(value)}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = (m[7] ?? '').padEnd(9, '0');
  const ms = Number(fraction.slice(0, 3));
  const belowMs = Number(fraction.slice(3));
  const local = utcMs(year, month, day, hour, minute, second, ms);
  if (Number.isNaN(local)) throw new WireTimeError(`not a valid date: ${JSON.stringify(value)}`);
  const epoch = local - offsetMs(m[8] ?? 'Z');
  if (epoch === GO_ZERO_TIME_MS && belowMs === 0) return null;
  return new Date(epoch).toISOString();
}

function utcMs(
  year: number,
  month: number,
  day: number,
  h: number,
  min: number,
  s: number,
  ms: number,
): number {
  if (month < 1 || month > 12 || day < 1 || h > 23 || min > 59 || s > 60) return Number.NaN;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  // A day past the month's end rolls over; reject instead of silently moving the date.
  if (d.getUTCDate() !== day) return Number.NaN;
  d.setUTCHours(h, min, Math.min(s, 59), ms);
  return d.getTime();
}

function offsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [h, m] = zone.slice(1).split(':').map(Number) as [number, number];
  return sign * (h * 60 + m) * 60_000;
}
