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
