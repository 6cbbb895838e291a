import { describe, expect, it } from 'vitest';
import { canonicalizeKeys, canonicalKeysView, decodeJson } from '../../src/github/json.js';

describe('JSON decoding (§0, §3.4)', () => {
  it('§13.18 drops a leading UTF-8 BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"count":1}')]);
    expect(decodeJson(bytes)).toEqual({ count: 1 });
  });

  it('rejects empty bodies and malformed JSON', () => {
    expect(() => decodeJson(Buffer.alloc(0))).toThrow('empty response body');
    expect(() => decodeJson('{"a":')).toThrow(/malformed JSON/);
  });

  it('rejects integers that a JS number would round', () => {
    expect(decodeJson('{"id":9007199254740991}')).toEqual({ id: 9007199254740991 });
    expect(() => decodeJson('{"id":9007199254740993}')).toThrow(/"id" out of the safe range/);
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

  it('rejects unsafe integers nested in arrays and objects, and exponent literals that are not safe', () => {
    expect(() => decodeJson('{"a":[1,{"b":12345678901234567890}]}')).toThrow(/"b" out of the safe range/);
    expect(() => decodeJson('[1e300]')).toThrow(/"0" out of the safe range/);
    expect(decodeJson('{"x":1.5e3,"y":-12.25}')).toEqual({ x: 1500, y: -12.25 });
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
