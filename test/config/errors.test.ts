import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { BASE, loadSet, problems, USER } from './helpers.js';

describe('unknown and misplaced keys', () => {
  it('rejects an unknown key and suggests the close one', async () => {
    expect(await problems(`${BASE}max-runner = 3\n[docker]\nmemroy = "4g"\nfrobnicate = 1\n`)).toEqual([
      'config.toml: max-runner: unknown key in the top level; did you mean "max-runners"?',
      'config.toml: docker.memroy: unknown key in [docker]; did you mean "memory"?',
      'config.toml: docker.frobnicate: unknown key in [docker]',
    ]);
  });

  it('catches a top-level key written after a table header (runscaler init bug)', async () => {
    expect(await problems(`${BASE}[docker]\ndind = false\nlog-level = "debug"\n`)).toEqual([
      'config.toml: docker.log-level: misplaced: TOML puts log-level in [docker] because it comes after that header; it is a top-level key: move it above the first [table] header',
    ]);
  });

  it('says which table a key belongs in', async () => {
    expect(
      await problems(
        `${BASE}dind = true\npool-size = 2\n[docker]\nmemory = "1g"\npull-policy = "never"\nmax-vms = 1\n`,
      ),
    ).toEqual([
      'config.toml: dind: misplaced: dind belongs in [docker]',
      'config.toml: pool-size: misplaced: pool-size belongs in [tart]',
      'config.toml: docker.max-vms: misplaced: max-vms belongs in [tart]',
    ]);
  });

  it('names tables the way they are written inside [[scaleset]] and arrays of tables', async () => {
    const text = `${BASE}[[docker.mounts]]\ntarget = "/a"\nsource = "/b"\nreadonly = true\n[[scaleset]]\nname = "s"\n[scaleset.tart]\nmax-runners = 1\nlog-level = "debug"\n[scaleset.docker]\nnetwrok = "x"\n`;
    expect(await problems(text)).toEqual([
      'config.toml: docker.mounts[0].readonly: unknown key in [[docker.mounts]]; did you mean "read-only"?',
      "config.toml: scaleset[0].tart.max-runners: misplaced: TOML puts max-runners in [scaleset.tart] because it comes after that header; it is a [[scaleset]] key: move it up, between [[scaleset]] and the entry's first [scaleset.…] header",
      'config.toml: scaleset[0].tart.log-level: misplaced: log-level applies to the whole daemon, so it is only read at the top level, not in [[scaleset]]',
      'config.toml: scaleset[0].docker.netwrok: unknown key in [scaleset.docker]; did you mean "network"?',
    ]);
  });

  it('names the new key for runscaler keys that were renamed', async () => {
    expect(
      await problems(
        `${BASE}[docker]\nsocket = "/var/run/docker.sock"\ncpu = 2\n[tart]\ncache-max-age = "7d"\n`,
      ),
    ).toEqual([
      'config.toml: docker.socket: renamed: write host = "unix:///var/run/docker.sock" (any DOCKER_HOST form works)',
      'config.toml: docker.cpu: renamed to cpus (fractions allowed)',
      'config.toml: tart.cache-max-age: renamed to prune-max-age (a duration such as "7d")',
    ]);
  });
});

describe('a config written by runscaler init', () => {
  // Its template puts the log keys after [docker] and names the socket the old way; TOML accepts both
  // silently, runscaler then ignored them. Both are reported here, with the fix.
  const RUNSCALER = `url = "https://github.com/my-org"
name = "my-runners"
token = "env:GITHUB_TOKEN"
max-runners = 10
min-runners = 0
runner-image = "ghcr.io/actions/actions-runner:latest"
backend = "docker"

[docker]
dind = true
socket = "/var/run/docker.sock"
shared-volume = ""

log-level = "info"
log-format = "text"
`;

  it('reads every shared key and reports the two that runscaler silently dropped', async () => {
    expect(await problems(RUNSCALER, { env: { GITHUB_TOKEN: 'ghp_x' } })).toEqual([
      'config.toml: docker.socket: renamed: write host = "unix:///var/run/docker.sock" (any DOCKER_HOST form works)',
      'config.toml: docker.log-level: misplaced: TOML puts log-level in [docker] because it comes after that header; it is a top-level key: move it above the first [table] header',
      'config.toml: docker.log-format: misplaced: TOML puts log-format in [docker] because it comes after that header; it is a top-level key: move it above the first [table] header',
    ]);
    const fixed = RUNSCALER.replace('socket = "/var/run/docker.sock"\n', '').replace(
      /\nlog-level.*\nlog-format.*\n/,
      '\n',
    );
    const set = await loadSet(fixed, { env: { GITHUB_TOKEN: 'ghp_x' } });
    expect(set).toMatchObject({
      name: 'my-runners',
      maxRunners: 10,
      docker: { dind: true, sharedVolume: '' },
    });
  });
});

describe('values', () => {
  it('rejects min-runners above max-runners', async () => {
    expect(await problems(`${BASE}min-runners = 5\nmax-runners = 2\n`)).toEqual([
      'config.toml: min-runners: expected an integer ≤ max-runners (2), got 5',
    ]);
  });

  it.each([
    ['max-runners = 0', 'config.toml: max-runners: expected an integer from 1 to 10000, got 0'],
    ['min-runners = -1', 'config.toml: min-runners: expected an integer from 0 to 10000, got -1'],
    ['max-runners = 2.5', 'config.toml: max-runners: expected an integer from 1 to 10000, got 2.5'],
    ['max-runners = "3"', 'config.toml: max-runners: expected an integer from 1 to 10000, got "3"'],
    ['backend = "k8s"', 'config.toml: backend: expected one of "docker", "tart", "dedalus", got "k8s"'],
    ['labels = "a,b"', 'config.toml: labels: expected an array of non-empty strings, got "a,b"'],
    ['labels = ["a", ""]', 'config.toml: labels[1]: expected a non-empty string, got ""'],
    [
      'idle-timeout = "soon"',
      'config.toml: idle-timeout: expected a duration like "30s", "5m", "1h30m" or "7d", or a number of seconds from 0s to 24d, got "soon"',
    ],
    [
      'reconcile-interval = "0"',
      'config.toml: reconcile-interval: expected a duration like "30s", "5m", "1h30m" or "7d", or a number of seconds from 1s to 1h, got "0"',
    ],
    ['start-concurrency = 0', 'config.toml: start-concurrency: expected an integer from 1 to 256, got 0'],
    ['health-port = 65536', 'config.toml: health-port: expected an integer from 0 to 65535, got 65536'],
    [
      'log-level = "verbose"',
      'config.toml: log-level: expected one of "trace", "debug", "info", "warn", "error", got "verbose"',
    ],
    [
      'delete-scale-set-on-exit = "yes"',
      'config.toml: delete-scale-set-on-exit: expected true or false, got "yes"',
    ],
    ['docker = 1', 'config.toml: docker: expected a table ([docker]), got 1'],
    [
      'drain-timeout = 1979-05-27',
      'config.toml: drain-timeout: expected a duration like "30s", "5m", "1h30m" or "7d", or a number of seconds from 0s to 24d, got a date (1979-05-27)',
    ],
  ])('%s', async (line, expected) => {
    expect(await problems(`${line}\n${BASE.replace(/^name = .*$/m, 'name = "n"')}`)).toEqual([expected]);
  });

  it.each([
    ['github.com/org', false],
    ['https://github.com', false],
    ['https://github.com/a/b/c', false],
    ['https://github.com/enterprises', false],
    ['ftp://github.com/org', false],
    ['https://user:pw@github.com/org', false],
    ['https://github.com/org?x=1', false],
    ['https://github.com/org', true],
    ['https://github.com/org/repo/', true],
    ['https://github.com/enterprises/acme', true],
    ['https://ghes.example.com/org', true],
    ['http://127.0.0.1:8123/org/repo', true],
  ])('url %s valid=%s', async (url, valid) => {
    const text = `url = ${JSON.stringify(url)}\nname = "n"\n`;
    if (valid) {
      // Trailing slashes go, as the protocol client trims them.
      expect((await loadSet(text)).url).toBe(url.replace(/\/+$/, ''));
      return;
    }
    expect(await problems(text)).toEqual([
      `config.toml: url: expected the URL of an org, repo or enterprise, e.g. "https://github.com/my-org" or "https://github.com/my-org/my-repo", got ${JSON.stringify(url)}`,
    ]);
  });
});

describe('reporting', () => {
  it('reports every problem at once: syntax of values, unknown keys, checks across keys and sets', async () => {
    const text = `
url = "https://github.com/org"
max-runners = -1
[docker]
memory = "lots"
extra = 1
[[scaleset]]
name = "a"
min-runners = 50
[[scaleset]]
name = "a"
backend = "tart"
`;
    const error = await problems(text, { env: { RUNNER_TOKEN: 't', RUNNER_HEALTH_PORT: 'x' } });
    expect(error).toEqual([
      'config.toml: max-runners: expected an integer from 1 to 10000, got -1',
      'config.toml: docker.memory: expected a size like "512m", "8g" or "4GiB", or a number of bytes, 0 or from 6MiB to 1TiB (runscaler counted MB: write "4096m"), got "lots"',
      'config.toml: docker.extra: unknown key in [docker]',
      'env RUNNER_HEALTH_PORT: expected an integer from 0 to 65535, got "x"',
      'config.toml: scaleset[1].runner-image: expected the Tart VM image to clone, e.g. "ghcr.io/cirruslabs/macos-sequoia-xcode:latest" (backend = "tart" has no default), got nothing',
      'config.toml: scaleset[1].name: expected a name no other scale set uses, got "a", as scaleset[0] "a"',
    ]);
    // min-runners = 50 is not reported: max-runners was rejected, so comparing with its default would mislead.
  });

  it('carries structured problems and a message listing them', async () => {
    const error = await loadConfig({
      file: 'cfg.toml',
      env: {},
      identity: USER,
      readFile: async () => 'url = 3\nname = ""\n',
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.problems.map((p) => [p.source, p.key])).toEqual([
      [{ kind: 'file', file: 'cfg.toml' }, 'url'],
      [{ kind: 'file', file: 'cfg.toml' }, 'name'],
      [{ kind: 'file', file: 'cfg.toml' }, 'token'],
    ]);
    expect(configError.message).toBe(
      [
        'invalid configuration (3 problems):',
        '  cfg.toml: url: expected the URL of an org, repo or enterprise, e.g. "https://github.com/my-org" or "https://github.com/my-org/my-repo", got 3',
        '  cfg.toml: name: expected a non-empty string, got ""',
        '  cfg.toml: token: expected a token (or "env:VAR"), a [github-app] table, or RUNNER_TOKEN in the environment, got none of them',
      ].join('\n'),
    );
  });

  it('points TOML syntax errors at line and column', async () => {
    expect(await problems('url = "https://github.com/o"\nname = \n')).toEqual([
      'config.toml:2:8: invalid TOML: invalid value',
    ]);
  });
});

describe('finding the file', () => {
  const reader = (files: Record<string, string>) => async (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    return text;
  };

  it('fails when an explicit --config file is missing', async () => {
    const error = await loadConfig({ file: 'missing.toml', env: {}, cwd: '/w', readFile: reader({}) }).catch(
      (e: unknown) => e,
    );
    expect((error as ConfigError).lines).toEqual(['missing.toml: cannot read the config file: no such file']);
  });

  it('searches ./config.toml, then /etc/runner/config.toml', async () => {
    const etc = reader({ '/etc/runner/config.toml': `${BASE}max-runners = 2\n` });
    const fromEtc = await loadConfig({
      env: { RUNNER_TOKEN: 't' },
      cwd: '/w',
      identity: USER,
      readFile: etc,
    });
    expect(fromEtc.file).toBe('/etc/runner/config.toml');
    expect(fromEtc.scaleSets[0]?.maxRunners).toBe(2);

    const both = reader({ '/etc/runner/config.toml': BASE, '/w/config.toml': `${BASE}max-runners = 3\n` });
    const fromCwd = await loadConfig({
      env: { RUNNER_TOKEN: 't' },
      cwd: '/w',
      identity: USER,
      readFile: both,
    });
    expect(fromCwd.file).toBe('./config.toml');
    expect(fromCwd.scaleSets[0]?.maxRunners).toBe(3);
  });

  it('says where it looked when there is no file and env and flags are not enough', async () => {
    const error = await loadConfig({ env: {}, cwd: '/w', readFile: reader({}) }).catch((e: unknown) => e);
    expect((error as ConfigError).lines.slice(0, 2)).toEqual([
      'config: no config file found (looked for ./config.toml and /etc/runner/config.toml; use --config or RUNNER_CONFIG)',
      'config: url: expected the URL of an org, repo or enterprise, e.g. "https://github.com/my-org" or "https://github.com/my-org/my-repo", got nothing',
    ]);
  });

  it('takes RUNNER_CONFIG when --config is absent', async () => {
    const files = reader({ '/srv/r.toml': `${BASE}max-runners = 4\n` });
    const config = await loadConfig({
      env: { RUNNER_TOKEN: 't', RUNNER_CONFIG: '/srv/r.toml' },
      cwd: '/w',
      identity: USER,
      readFile: files,
    });
    expect(config.scaleSets[0]?.maxRunners).toBe(4);
  });

  it('does not fall back to defaults when a found file cannot be read', async () => {
    const denied = async () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    const error = await loadConfig({ env: { RUNNER_TOKEN: 't' }, cwd: '/w', readFile: denied }).catch(
      (e: unknown) => e,
    );
    expect((error as ConfigError).lines).toEqual([
      './config.toml: cannot read the config file: EACCES: permission denied',
    ]);
  });
});
