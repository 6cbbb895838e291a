import { optional, required, str } from './fields.js';
import { isTimeZone, parseDays, parseHours } from './schedule.js';

/**
 * The keys every schedule window has (`[[schedule]]` of warm runners, `[[dedalus.schedule]]` of the
 * Dedalus pool): one syntax, read by one evaluator (schedule.ts), whatever the window sets.
 */
export function windowKeys() {
  return {
    days: required(
      str({
        expected: 'days like "mon-fri", "sat,sun" or "daily"',
        check: (s) => parseDays(s) !== undefined,
      }),
      'Days the window applies to.',
    ),
    hours: required(
      str({ expected: 'hours like "08:00-18:00"', check: (s) => parseHours(s) !== undefined }),
      'Time of day the window applies to; an end before the start runs past midnight.',
    ),
    timezone: optional(
      str({ expected: 'an IANA time zone like "Europe/Berlin" or "UTC"', check: isTimeZone }),
      'Time zone of days and hours.',
      "the daemon host's local time",
    ),
  };
}
