import { describe, expect, it } from 'vitest';
import {
  compileWindow,
  localTime,
  minRunnersAt,
  nextScheduleCheck,
  windowContains,
} from '../../src/schema/schedule.js';
import { BASE, load, problems } from './helpers.js';

describe('[[schedule]]: warm runners that follow the working day', () => {
  it('reads windows for a set and for each shape, a shape without its own taking its set’s', async () => {
    const { scaleSets } = await load(`${BASE}max-runners = 4
[[schedule]]
days = "mon-fri"
hours = "08:00-18:00"
timezone = "Europe/Berlin"
min-runners = 2
[[shape]]
cpu = 2
ram = 4
[[shape]]
cpu = 8
ram = 32
[[shape.schedule]]
days = "daily"
hours = "22:00-06:00"
min-runners = 1
`);
    expect(
      scaleSets.map((s) => [s.name, s.schedule.map((w) => [w.start, w.end, w.timeZone, w.minRunners])]),
    ).toEqual([
      ['linux-cpu2-ram4', [[480, 1080, 'Europe/Berlin', 2]]],
      ['linux-cpu8-ram32', [[1320, 360, undefined, 1]]],
    ]);
  });

  it('refuses a window above max-runners, an unknown time zone and unreadable days, naming the key', async () => {
    const lines = await problems(`${BASE}max-runners = 2
[[schedule]]
days = "mon-fri"
hours = "08:00-18:00"
min-runners = 3
[[schedule]]
days = "weekdays"
hours = "08:00-18:00"
timezone = "Mars/Olympus"
min-runners = 1
`);
    expect(lines).toEqual([
      'config.toml: schedule[1].days: expected days like "mon-fri", "sat,sun" or "daily", got "weekdays"',
      'config.toml: schedule[1].timezone: expected an IANA time zone like "Europe/Berlin" or "UTC", got "Mars/Olympus"',
    ]);
    expect(
      await problems(`${BASE}max-runners = 2
[[schedule]]
days = "mon-fri"
hours = "08:00-18:00"
min-runners = 3
`),
    ).toEqual(['config.toml: schedule[0].min-runners: expected an integer ≤ max-runners (2), got 3']);
  });

  it('evaluates windows in their time zone, wrapping past midnight onto the day they opened', () => {
    // Monday 2026-12-07 07:30 UTC is 08:30 in Berlin, 02:30 in New York.
    const at = new Date(Date.UTC(2026, 11, 7, 7, 30));
    expect(localTime(at, 'Europe/Berlin')).toEqual({ day: 1, minute: 8 * 60 + 30 });
    expect(localTime(at, 'America/New_York')).toEqual({ day: 1, minute: 2 * 60 + 30 });
    const office = compileWindow('mon-fri', '08:00-18:00', 'Europe/Berlin');
    const nyOffice = compileWindow('mon-fri', '08:00-18:00', 'America/New_York');
    const night = compileWindow('sun', '22:00-06:00', 'America/New_York');
    if (!office || !nyOffice || !night) throw new Error('windows');
    expect(windowContains(office, at)).toBe(true);
    expect(windowContains(nyOffice, at)).toBe(false);
    // Sunday's night window still holds early Monday in New York.
    expect(windowContains(night, at)).toBe(true);
    const windows = [
      { ...nyOffice, minRunners: 5 },
      { ...office, minRunners: 2 },
    ];
    expect(minRunnersAt(windows, 0, at)).toBe(2);
    expect(minRunnersAt(windows, 1, new Date(Date.UTC(2026, 11, 12, 12)))).toBe(1); // Saturday
    expect(nextScheduleCheck(Date.UTC(2026, 11, 7, 7, 30, 15))).toBe(Date.UTC(2026, 11, 7, 7, 31));
  });
});
