import { describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_INFO, formatUserAgent } from '../../src/github/index.js';
import { VERSION } from '../../src/version.js';

describe('User-Agent (§3.3, §13.14)', () => {
  it('is compact JSON with the spec key order and kind "scaleset"', () => {
    const ua = formatUserAgent({
      system: 'runner',
      version: '1.2.3',
      commitSha: 'abc123',
      scaleSetId: 10,
      subsystem: 'listener',
    });
    expect(Object.keys(JSON.parse(ua))).toEqual([
      'system',
      'version',
      'commit_sha',
      'scale_set_id',
      'subsystem',
      'build_version',
      'build_commit_sha',
      'kind',
    ]);
    expect(JSON.parse(ua)).toMatchObject({ scale_set_id: 10, build_version: VERSION, kind: 'scaleset' });
    expect(ua).not.toContain(' ');
  });

  it('defaults to system "runner", subsystem "listener", our package version', () => {
    expect(JSON.parse(formatUserAgent({ ...DEFAULT_SYSTEM_INFO }))).toMatchObject({
      system: 'runner',
      subsystem: 'listener',
      version: VERSION,
      scale_set_id: 0,
    });
  });
});
