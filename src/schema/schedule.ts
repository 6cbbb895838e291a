/**
 * The `[[dedalus.schedule]]` window syntax: days "mon-fri", "sat,sun" or "daily"; hours
 * "08:00-18:00" (an end before the start wraps past midnight). Config validation and the Dedalus
 * backend both read windows through these two functions, so they cannot disagree.
 */

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Days of the week the window covers, as `Date#getDay()` numbers; undefined when unreadable. */
export function parseDays(text: string): Set<number> | undefined {
  const spec = text.trim().toLowerCase();
  if (spec === 'daily' || spec === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const part of spec.split(',')) {
    const [from, to, extra] = part.split('-').map((s) => s.trim());
    if (extra !== undefined || from === undefined) return undefined;
    const start = dayIndex(from);
    const end = to === undefined ? start : dayIndex(to);
    if (start === undefined || end === undefined) return undefined;
    // Ranges run forward through the week, so "fri-mon" is Friday to Monday.
    for (let d = start; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === end) break;
    }
  }
  return days;
}

function dayIndex(name: string): number | undefined {
  // "mon", "mond" and "monday" all name Monday; fewer than three letters is ambiguous (tu, th).
  if (name.length < 3) return undefined;
  const i = DAY_NAMES.findIndex((day) => day.startsWith(name));
  return i >= 0 ? i : undefined;
}

/** Minutes after midnight at which the window opens and closes; undefined when unreadable. */
export function parseHours(text: string): { start: number; end: number } | undefined {
  const match = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const [h1, m1, h2, m2] = match.slice(1).map(Number) as [number, number, number, number];
  // 24:00 is allowed as an end so a window can close exactly at midnight.
  if (h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || (h2 === 24 && m2 !== 0)) return undefined;
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  return start === end ? undefined : { start, end };
}

/**
 * A time zone `Intl` knows ("Europe/Berlin", "UTC"); schedules without one use the daemon host's local
 * time, as `[[dedalus.schedule]]` always did.
 */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A window of a schedule, compiled: days as `Date#getDay()` numbers, minutes after midnight. */
export interface ScheduleWindow {
  days: ReadonlySet<number>;
  start: number;
  end: number;
  /** IANA time zone; undefined: the daemon host's local time. */
  timeZone?: string;
}

/** The window of `days` and `hours` (already checked by the config), in `timeZone` when given. */
export function compileWindow(days: string, hours: string, timeZone?: string): ScheduleWindow | undefined {
  const d = parseDays(days);
  const h = parseHours(hours);
  if (!d || !h) return undefined;
  return { days: d, ...h, ...(timeZone ? { timeZone } : {}) };
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formats = new Map<string, Intl.DateTimeFormat>();

/** The day of the week and the minute of the day at `now`, in `timeZone` (local time without one). */
export function localTime(now: Date, timeZone?: string): { day: number; minute: number } {
  if (timeZone === undefined) return { day: now.getDay(), minute: now.getHours() * 60 + now.getMinutes() };
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(now).map((p) => [p.type, p.value]));
  return {
    day: WEEKDAYS[parts.weekday ?? ''] ?? now.getUTCDay(),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** True when `now` falls in `w`. A window that wraps midnight belongs to the day it opened on. */
export function windowContains(w: ScheduleWindow, now: Date): boolean {
  const { day, minute } = localTime(now, w.timeZone);
  if (w.start < w.end) return w.days.has(day) && minute >= w.start && minute < w.end;
  return (w.days.has(day) && minute >= w.start) || (w.days.has((day + 6) % 7) && minute < w.end);
}

/** The first moment after `now` at which a window may open or close: the next whole minute. */
export function nextScheduleCheck(now: number): number {
  return Math.floor(now / 60_000) * 60_000 + 60_000;
}

/** A window of a warm-runner schedule (`[[schedule]]`): the min-runners that holds while it is open. */
export interface WarmWindow extends ScheduleWindow {
  minRunners: number;
}

/** The warm runners wanted at `now`: the first open window's, else `base` (min-runners). */
export function minRunnersAt(windows: readonly WarmWindow[], base: number, now: Date): number {
  return windows.find((w) => windowContains(w, now))?.minRunners ?? base;
}
