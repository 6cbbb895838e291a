import { describe, expect, it } from 'vitest';
import {
  type ConfigScope,
  gitHubApiUrl,
  parseConfigUrl,
  registrationTokenPath,
} from '../../src/github/index.js';

const NO_ENV = {};

describe('parseConfigUrl (§1.1, §13.1)', () => {
  const cases: [string, ConfigScope, string][] = [
    ['https://github.com/org', { kind: 'organization', organization: 'org' }, 'https://github.com/org'],
    ['https://github.com/org/', { kind: 'organization', organization: 'org' }, 'https://github.com/org'],
    ['/https://github.com/org//', { kind: 'organization', organization: 'org' }, 'https://github.com/org'],
    [
      'https://github.com/org/repo',
      { kind: 'repository', organization: 'org', repository: 'repo' },
      'https://github.com/org/repo',
    ],
    [
      'https://github.com/enterprises/acme',
      { kind: 'enterprise', enterprise: 'acme' },
      'https://github.com/enterprises/acme',
    ],
    [
      'https://github.com/Enterprises/acme/',
      { kind: 'enterprise', enterprise: 'acme' },
      'https://github.com/Enterprises/acme',
    ],
    [
      'http://127.0.0.1:8080/my-org/my-repo',
      { kind: 'repository', organization: 'my-org', repository: 'my-repo' },
      'http://127.0.0.1:8080/my-org/my-repo',
    ],
  ];
  it.each(cases)('%s → %j', (input, scope, trimmed) => {
    const parsed = parseConfigUrl(input, NO_ENV);
    expect(parsed.scope).toEqual(scope);
    expect(parsed.url).toBe(trimmed);
  });

  it.each([
    'https://github.com',
    'https://github.com/',
    'https://github.com/a/b/c',
    'github.com/org',
    'ftp://github.com/org',
    '',
  ])('rejects %j with an example of a good URL', (input) => {
    expect(() => parseConfigUrl(input, NO_ENV)).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG_URL',
        message: expect.stringContaining('https://github.com/org/repo'),
      }),
    );
  });
});

describe('API base URL (§1.2, §1.3, §13.2)', () => {
  const path = '/app/installations/123/access_tokens';
  it.each([
    ['https://github.com/org/repo', 'https://api.github.com', true],
    ['https://www.github.com/org/repo', 'https://api.github.com', true],
    ['https://WWW.GitHub.com/org', 'https://api.github.com', true],
    ['http://github.localhost/org/repo', 'http://api.github.localhost', true],
    ['https://tenant.ghe.com/org', 'https://api.tenant.ghe.com', true],
    ['https://my-instance.com/org/repo', 'https://my-instance.com/api/v3', false],
    ['http://localhost/org/repo', 'http://localhost/api/v3', false],
    ['http://127.0.0.1:8080/org', 'http://127.0.0.1:8080/api/v3', false],
  ])('%s → %s', (input, api, hosted) => {
    const parsed = parseConfigUrl(input, NO_ENV);
    expect(parsed.isHosted).toBe(hosted);
    expect(parsed.apiBaseUrl).toBe(api);
    expect(gitHubApiUrl(parsed, path)).toBe(`${api}${path}`);
  });

  it('GITHUB_ACTIONS_FORCE_GHES, even empty, forces the /api/v3 form', () => {
    const parsed = parseConfigUrl('https://github.com/org', { GITHUB_ACTIONS_FORCE_GHES: '' });
    expect(parsed.isHosted).toBe(false);
    expect(parsed.apiBaseUrl).toBe('https://github.com/api/v3');
  });
});

describe('registrationTokenPath (§2.3)', () => {
  it.each([
    ['https://github.com/o', '/orgs/o/actions/runners/registration-token'],
    ['https://github.com/o/r', '/repos/o/r/actions/runners/registration-token'],
    ['https://github.com/enterprises/e', '/enterprises/e/actions/runners/registration-token'],
  ])('%s → %s', (input, path) => {
    expect(registrationTokenPath(parseConfigUrl(input, NO_ENV).scope)).toBe(path);
  });
});
