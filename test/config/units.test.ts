import { describe, expect, it } from 'vitest';
import { formatDuration, parseDays, parseDuration, parseHours, parseSize } from '../../src/config/index.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['90', 90_000],
    [' 10M ', 600_000],
    [45, 45_000],
    [0, 0],
  ] as const)('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '-5s', '5 m', '1h 30m', 'h', '5x', '1h30'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });

  it('rejects negative numbers of seconds', () => {
    expect(parseDuration(-1)).toBeUndefined();
  });

  it('formats back compactly for messages', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('parseSize', () => {
  it.each([
    ['8g', 8 * 1024 ** 3],
    ['512m', 512 * 1024 ** 2],
    ['4GiB', 4 * 1024 ** 3],
    ['4GB', 4 * 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['100k', 102_400],
    ['512b', 512],
    ['2048', 2048],
    [1024, 1024],
    [0, 0],
  ] as const)('%j → %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it('counts bare numbers in MiB for MiB keys, and converts suffixed ones', () => {
    expect(parseSize(8192, 'MiB')).toBe(8192);
    expect(parseSize('8g', 'MiB')).toBe(8192);
    expect(parseSize('100k', 'MiB')).toBeUndefined(); // not a whole MiB
  });

  it.each(['', 'big', '-1g', '4x', '4 gigs', '1i', '1ib', '0.5'])('rejects %j', (input) => {
    expect(parseSize(input)).toBeUndefined();
  });
});

describe('schedule windows', () => {
  it.each([
    ['mon-fri', [1, 2, 3, 4, 5]],
    ['sat,sun', [0, 6]],
    ['daily', [0, 1, 2, 3, 4, 5, 6]],
    ['fri-mon', [0, 1, 5, 6]],
    ['Wednesday', [3]],
  ])('days %j', (text, days) => {
    expect([...(parseDays(text) ?? [])].sort()).toEqual(days);
  });

  it.each(['', 'mo', 'funday', 'mon-tue-wed', 'mon,'])('rejects days %j', (text) => {
    expect(parseDays(text)).toBeUndefined();
  });

  it('reads hours, including windows past midnight', () => {
    expect(parseHours('08:00-18:00')).toEqual({ start: 480, end: 1080 });
    expect(parseHours('22:00-06:30')).toEqual({ start: 1320, end: 390 });
    expect(parseHours('18:00-24:00')).toEqual({ start: 1080, end: 1440 });
  });

  it.each(['8-18', '08:00-08:00', '25:00-26:00', '08:60-09:00', '24:30-01:00'])(
    'rejects hours %j',
    (text) => {
      expect(parseHours(text)).toBeUndefined();
    },
  );
});
