import { describe, expect, it } from 'vitest';
import { parseWireTime } from '../../src/github/index.js';

describe('job-message times (§7.1, §13.39)', () => {
  it.each([
    ['2024-09-11T15:14:20Z', '2024-09-11T15:14:20.000Z'],
    ['2024-09-11T15:14:20.1Z', '2024-09-11T15:14:20.100Z'],
    ['2024-09-11T15:14:20.12Z', '2024-09-11T15:14:20.120Z'],
    ['2024-09-11T15:14:20.123Z', '2024-09-11T15:14:20.123Z'],
    ['2024-09-11T15:14:20.1234Z', '2024-09-11T15:14:20.123Z'],
    ['2024-09-11T15:14:20.12345Z', '2024-09-11T15:14:20.123Z'],
    ['2024-09-11T15:14:20.123456Z', '2024-09-11T15:14:20.123Z'],
    ['2024-09-11T15:14:20.1234567Z', '2024-09-11T15:14:20.123Z'],
    ['2024-09-11T17:14:20.5+02:00', '2024-09-11T15:14:20.500Z'],
    ['2024-09-11T10:14:20-05:00', '2024-09-11T15:14:20.000Z'],
  ])('%s → %s', (input, iso) => {
    expect(parseWireTime(input)).toBe(iso);
  });

  it.each([
    null,
    undefined,
    '0001-01-01T00:00:00Z',
    '0001-01-01T00:00:00.0000000Z',
    '0001-01-01T00:00:00+00:00',
  ])('%j is unset', (input) => {
    expect(parseWireTime(input)).toBeNull();
  });

  it('keeps a time just after the zero time', () => {
    expect(parseWireTime('0001-01-01T00:00:01Z')).toBe('0001-01-01T00:00:01.000Z');
  });

  it.each(['yesterday', '2024-09-11', '2024-02-30T00:00:00Z', '2024-09-11T25:00:00Z', 12])(
    'rejects %j',
    (input) => {
      expect(() => parseWireTime(input)).toThrow(/RFC 3339|valid date/);
    },
  );

  it('answers the same when a value comes again (memoised), and a bad value fails every time', () => {
    for (let i = 0; i < 3; i++) {
      expect(parseWireTime('2024-09-11T10:00:00.1234567+02:00')).toBe('2024-09-11T08:00:00.123Z');
      expect(parseWireTime('0001-01-01T00:00:00Z')).toBeNull();
      expect(() => parseWireTime('2024-02-30T00:00:00Z')).toThrow(/valid date/);
    }
  });

  it('stays correct past the memo size', () => {
    for (let s = 0; s < 3000; s++) {
      const t = new Date(Date.UTC(2024, 0, 1) + s * 1000).toISOString();
      expect(parseWireTime(t)).toBe(t);
    }
  });
});
