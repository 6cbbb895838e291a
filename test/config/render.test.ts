import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ConfigError, renderConfigToml } from '../../src/config/index.js';
import { load } from './helpers.js';

describe('renderConfigToml', () => {
  it('writes top-level keys before every table header, so they stay top-level', () => {
    const text = renderConfigToml({
      docker: { dind: false, memory: '4g' },
      url: 'https://github.com/org',
      name: 'linux',
      'log-level': 'debug',
      token: 'env:GITHUB_TOKEN',
    });
    const firstHeader = text.indexOf('[docker]');
    expect(firstHeader).toBeGreaterThan(0);
    expect(text.indexOf('log-level')).toBeLessThan(firstHeader);
    expect(parse(text)).toMatchObject({ 'log-level': 'debug', docker: { dind: false, memory: '4g' } });
  });

  it('round-trips through the loader, scale sets and secrets references included', async () => {
    const text = renderConfigToml(
      {
        url: 'https://github.com/org',
        token: 'env:GITHUB_TOKEN',
        'max-runners': 4,
        scaleset: [
          { name: 'a', docker: { 'shared-volume': '/shared' } },
          {
            name: 'b',
            backend: 'tart',
            'runner-image': 'ghcr.io/cirruslabs/macos:latest',
            tart: { 'pool-size': 1 },
          },
        ],
      },
      ['Written by runner init.', '', 'Edit freely.'],
    );
    expect(text.startsWith('# Written by runner init.\n#\n# Edit freely.\n\n')).toBe(true);
    const config = await load(text, { env: { GITHUB_TOKEN: 'ghp_rendered' } });
    expect(config.scaleSets.map((s) => [s.name, s.maxRunners, s.backend])).toEqual([
      ['a', 4, 'docker'],
      ['b', 4, 'tart'],
    ]);
    expect(config.scaleSets[0]?.docker.sharedVolume).toBe('/shared');
  });

  it('leaves out keys set to undefined', () => {
    const text = renderConfigToml({ url: 'https://github.com/org', name: 'n', token: undefined });
    expect(parse(text)).toEqual({ url: 'https://github.com/org', name: 'n' });
  });

  it('refuses to write a config the loader would reject', () => {
    let error: unknown;
    try {
      renderConfigToml({
        url: 'https://github.com/org',
        'max-runners': 0,
        docker: { socket: '/x' },
      } as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).lines).toEqual([
      '(rendered config): max-runners: expected an integer from 1 to 10000, got 0',
      '(rendered config): docker.socket: renamed: write host = "unix:///var/run/docker.sock" (any DOCKER_HOST form works)',
    ]);
  });
});
