import { describe, expect, it } from 'vitest';
import { canonicalizeKeys, canonicalKeysView, decodeJson } from '../../src/github/json.js';
import { int, intArray, wireObject } from '../../src/github/wire-schema.js';

describe('JSON decoding (§0, §3.4)', () => {
  it('§13.18 drops a leading UTF-8 BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"count":1}')]);
    expect(decodeJson(bytes)).toEqual({ count: 1 });
  });

  it('rejects empty bodies and malformed JSON', () => {
    expect(() => decodeJson(Buffer.alloc(0))).toThrow('empty response body');
    expect(() => decodeJson('{"a":')).toThrow(/malformed JSON/);
  });

  it('leaves integers past 2^53 to the fields that read them (§0): decoding the body never fails on one', () => {
    expect(decodeJson('{"id":9007199254740991}')).toEqual({ id: 9007199254740991 });
    expect(decodeJson('{"id":1,"unused":18446744073709551615}')).toMatchObject({ id: 1 });
  });

  it("the schemas' int fails a field whose integer JSON.parse rounded, and only that field", () => {
    const schema = wireObject({ id: int, ids: intArray });
    // Every literal past 2^53 − 1 rounds to a double outside the safe range, however close it is.
    for (const literal of [
      '9007199254740992',
      '9007199254740993',
      '9007199254740991.6',
      '-9007199254740993',
      '1e300',
    ]) {
      const parsed = schema.safeParse(decodeJson(`{"id":${literal},"other":18446744073709551615}`));
      expect(parsed.success, literal).toBe(false);
      expect(parsed.error?.issues[0]?.message, literal).toMatch(/integer beyond/);
    }
    expect(schema.safeParse(decodeJson('{"ids":[1,9007199254740993]}')).success).toBe(false);
    expect(schema.parse(decodeJson('{"id":9007199254740991,"other":18446744073709551615}'))).toEqual({
      id: 9007199254740991,
      ids: [],
    });
  });

  it('matches keys case-insensitively, an exact spelling winning', () => {
    expect(canonicalizeKeys({ runnerSetting: 1, NAME: 'x', other: 2 }, ['RunnerSetting', 'name'])).toEqual({
      RunnerSetting: 1,
      name: 'x',
    });
    expect(canonicalizeKeys({ RunnerSetting: 1, runnerSetting: 2 }, ['RunnerSetting'])).toEqual({
      RunnerSetting: 1,
    });
    expect(canonicalizeKeys({ runnerSetting: 2, RunnerSetting: 1 }, ['RunnerSetting'])).toEqual({
      RunnerSetting: 1,
    });
  });

  it('keeps exponent and fraction literals as numbers', () => {
    expect(decodeJson('{"x":1.5e3,"y":-12.25,"z":[1e300]}')).toEqual({ x: 1500, y: -12.25, z: [1e300] });
  });

  it('canonicalKeysView: an object already spelled canonically is returned as it is', () => {
    const canonical = { RunnerSetting: 1, name: 'x', other: 2 };
    expect(canonicalKeysView(canonical, ['RunnerSetting', 'name'])).toBe(canonical);
    expect(canonicalKeysView({ runnerSetting: 1, name: 'x', other: 2 }, ['RunnerSetting', 'name'])).toEqual({
      RunnerSetting: 1,
      name: 'x',
    });
  });
});
