import { describe, expect, it } from 'vitest';
import { canonicalizeKeys, decodeJson } from '../../src/github/json.js';

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
});
