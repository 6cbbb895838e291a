import { describe, expect, it } from 'vitest';
import { BASE, load, loadSet, problems } from './helpers.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
/** The TLS files of the examples, where the loader's fake file system has them. */
const TLS_FILES = {
  '/etc/runner/docker/ca.pem': CERT,
  '/etc/runner/docker/cert.pem': CERT,
  '/etc/runner/docker/key.pem': KEY,
};
const LIMITS = '[docker]\ncpus = 2\nmemory = "4g"\n';

describe('[[docker.hosts]]', () => {
  it('reads every key, with TLS paths relative to the config file and sizes in bytes', async () => {
    const { docker } = await loadSet(
      `${BASE}${LIMITS}[[docker.hosts]]
name = "build-2"
url = "tcp://build-2:2376"
tls-ca = "docker/ca.pem"
tls-cert = "/etc/runner/docker/cert.pem"
tls-key = "docker/key.pem"
max-runners = 8
cpus = 16
memory = "64g"
[[docker.hosts]]
url = "unix:///var/run/docker.sock"
`,
      { fileName: '/etc/runner/config.toml', files: TLS_FILES },
    );
    expect(docker.hosts).toEqual([
      {
        name: 'build-2',
        url: 'tcp://build-2:2376',
        tlsCa: '/etc/runner/docker/ca.pem',
        tlsCert: '/etc/runner/docker/cert.pem',
        tlsKey: '/etc/runner/docker/key.pem',
        maxRunners: 8,
        cpus: 16,
        memory: 64 * 1024 ** 3,
      },
      { name: 'docker.sock', url: 'unix:///var/run/docker.sock' },
    ]);
    expect(docker).not.toHaveProperty('host');
  });

  it('names a host after its url when the table does not', async () => {
    const { docker } = await loadSet(`${BASE}[[docker.hosts]]
url = "tcp://build-2:2376"
[[docker.hosts]]
url = "tcp://10.0.0.7"
[[docker.hosts]]
url = "tcp://127.0.0.1:23750"
[[docker.hosts]]
url = "ssh://ci@build-3"
[[docker.hosts]]
url = "ssh://ci@build-3:2222"
[[docker.hosts]]
url = "unix:///run/engines/second.sock"
`);
    expect(docker.hosts.map((h) => h.name)).toEqual([
      'build-2',
      '10.0.0.7',
      '127.0.0.1:23750',
      'build-3',
      'build-3:2222',
      'second.sock',
    ]);
  });

  it('keeps the single [docker] host working as a list of one without a budget', async () => {
    expect((await loadSet(`${BASE}[docker]\nhost = "tcp://build-1:2376"\n`)).docker.hosts).toEqual([
      { name: 'build-1', url: 'tcp://build-1:2376' },
    ]);
    expect((await loadSet(BASE)).docker.hosts).toEqual([{ name: 'default', url: '' }]);
  });

  it('rejects host and [[docker.hosts]] written together, naming both keys', async () => {
    expect(
      await problems(
        `${BASE}[docker]\nhost = "unix:///var/run/docker.sock"\n[[docker.hosts]]\nurl = "tcp://b:2375"\n`,
      ),
    ).toEqual([
      'config.toml: docker.host: expected either docker.host or [[docker.hosts]], got both (host = "unix:///var/run/docker.sock" and 1 [[docker.hosts]]): write that engine as one more [[docker.hosts]] entry',
    ]);
  });

  it('lets a scale set replace an inherited host with its own hosts, and the other way round', async () => {
    const config = await load(`url = "https://github.com/o"
[docker]
host = "unix:///var/run/docker.sock"
[[scaleset]]
name = "a"
[[scaleset.docker.hosts]]
url = "tcp://build-2:2375"
[[scaleset]]
name = "b"
`);
    expect(config.scaleSets.map((s) => s.docker.hosts.map((h) => h.url))).toEqual([
      ['tcp://build-2:2375'],
      ['unix:///var/run/docker.sock'],
    ]);
    const back = await load(`url = "https://github.com/o"
[[docker.hosts]]
url = "tcp://build-2:2375"
[[scaleset]]
name = "a"
[scaleset.docker]
host = "unix:///run/other.sock"
[[scaleset]]
name = "b"
`);
    expect(back.scaleSets.map((s) => s.docker.hosts.map((h) => h.url))).toEqual([
      ['unix:///run/other.sock'],
      ['tcp://build-2:2375'],
    ]);
  });

  it('rejects two entries with one name, written or derived, naming both', async () => {
    expect(
      await problems(
        `${BASE}[[docker.hosts]]\nname = "b"\nurl = "tcp://b1:2375"\n[[docker.hosts]]\nname = "b"\nurl = "tcp://b2:2375"\n`,
      ),
    ).toEqual([
      'config.toml: docker.hosts[1].name: expected a host name no other [[docker.hosts]] entry has, got "b", as hosts[0]: give one of them a name',
    ]);
    expect(
      await problems(
        `${BASE}[[docker.hosts]]\nurl = "unix:///a/docker.sock"\n[[docker.hosts]]\nurl = "unix:///b/docker.sock"\n`,
      ),
    ).toEqual([
      'config.toml: docker.hosts[1].url: expected a host name no other [[docker.hosts]] entry has, got "docker.sock" (derived from url "unix:///b/docker.sock"), as hosts[0] (derived from its url): give one of them a name',
    ]);
  });

  it('rejects one engine listed twice, which would count its budget twice', async () => {
    expect(
      await problems(
        `${BASE}[[docker.hosts]]\nname = "a"\nurl = "tcp://b:2375"\n[[docker.hosts]]\nname = "b"\nurl = "tcp://b:2375"\n`,
      ),
    ).toEqual([
      'config.toml: docker.hosts[1].url: expected a url no other [[docker.hosts]] entry has, got "tcp://b:2375", as hosts[0] (one engine listed twice would count its budget twice)',
    ]);
  });

  it.each([
    ['url = "http://b:2375"', 'docker.hosts[0].url', 'a Docker endpoint like "tcp://build-2:2376"'],
    ['url = "tcp://"', 'docker.hosts[0].url', 'a Docker endpoint like'],
    ['name = "-x"', 'docker.hosts[0].name', "a host name of letters, digits, '.', '_', ':' and '-'"],
    ['max-runners = 0', 'docker.hosts[0].max-runners', 'an integer from 1 to 10000'],
    ['cpus = 0', 'docker.hosts[0].cpus', 'a number of CPUs > 0, e.g. 16, at most 4096'],
    [
      'memory = 0',
      'docker.hosts[0].memory',
      'a size like "512m", "8g" or "4GiB", or a number of bytes, from 6MiB to 64TiB',
    ],
    [
      'memory = "1m"',
      'docker.hosts[0].memory',
      'a size like "512m", "8g" or "4GiB", or a number of bytes, from 6MiB to 64TiB',
    ],
  ])('rejects %s', async (line, key, expected) => {
    const text = line.startsWith('url')
      ? `${BASE}${LIMITS}[[docker.hosts]]\n${line}\n`
      : `${BASE}${LIMITS}[[docker.hosts]]\nurl = "tcp://b:2375"\n${line}\n`;
    const lines = await problems(text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`config.toml: ${key}: expected ${expected}`);
    expect(lines[0]).toMatch(
      new RegExp(`, got ${line.split(' = ')[1]?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it('requires the url', async () => {
    expect(await problems(`${BASE}[[docker.hosts]]\nname = "b"\n`)).toEqual([
      'config.toml: docker.hosts[0].url: expected a Docker endpoint like "tcp://build-2:2376", "ssh://ci@build-2" or "unix:///var/run/docker.sock", got nothing',
    ]);
  });

  it('allows TLS files only with tcp://', async () => {
    expect(
      await problems(`${BASE}[[docker.hosts]]\nurl = "ssh://ci@b"\ntls-ca = "/etc/runner/docker/ca.pem"\n`, {
        files: TLS_FILES,
      }),
    ).toEqual([
      'config.toml: docker.hosts[0].tls-ca: expected tls-ca only with a tcp:// url (unix:// and ssh:// do not use TLS), got it with "ssh://ci@b"',
    ]);
  });

  it('requires tls-cert and tls-key together', async () => {
    const host = '[[docker.hosts]]\nurl = "tcp://b:2376"\n';
    expect(
      await problems(`${BASE}${host}tls-cert = "/etc/runner/docker/cert.pem"\n`, { files: TLS_FILES }),
    ).toEqual([
      'config.toml: docker.hosts[0].tls-key: expected the private key of tls-cert (tls-cert needs it), got nothing',
    ]);
    expect(
      await problems(`${BASE}${host}tls-key = "/etc/runner/docker/key.pem"\n`, { files: TLS_FILES }),
    ).toEqual([
      'config.toml: docker.hosts[0].tls-cert: expected the client certificate of tls-key (tls-key needs it), got nothing',
    ]);
  });

  it('checks the TLS files are readable PEM at load, and only for a set on Docker', async () => {
    const host = `[[docker.hosts]]
url = "tcp://b:2376"
tls-ca = "/etc/runner/docker/missing.pem"
tls-cert = "/etc/runner/docker/cert.der"
tls-key = "/etc/runner/docker/key.pem"
`;
    const files = {
      '/etc/runner/docker/cert.der': '0\x82\x03\x1a binary',
      '/etc/runner/docker/key.pem': '-----BEGIN ENCRYPTED PRIVATE KEY-----\nsecret-key-text\n',
    };
    const lines = await problems(`${BASE}${host}`, { files });
    expect(lines).toEqual([
      `config.toml: docker.hosts[0].tls-ca: expected a readable file, got "/etc/runner/docker/missing.pem" (ENOENT: no such file, open '/etc/runner/docker/missing.pem')`,
      'config.toml: docker.hosts[0].tls-cert: expected a PEM certificate (-----BEGIN CERTIFICATE-----), got "/etc/runner/docker/cert.der"',
      'config.toml: docker.hosts[0].tls-key: expected an unencrypted PEM private key, got "/etc/runner/docker/key.pem", which is passphrase-protected (openssl pkey -in it -out a new file)',
    ]);
    expect(lines.join('\n')).not.toContain('secret-key-text');
    // A Tart set inherits the table but never connects to Docker: its files are not needed.
    const tart = await loadSet(
      `${BASE}backend = "tart"\nrunner-image = "ghcr.io/cirruslabs/macos:latest"\n${host}`,
      {
        files,
      },
    );
    expect(tart.docker.hosts[0]?.tlsCa).toBe('/etc/runner/docker/missing.pem');
  });

  it('asks for runner limits when a host has a budget, and a budget at least one runner big', async () => {
    expect(
      await problems(`${BASE}[[docker.hosts]]\nurl = "tcp://b:2375"\ncpus = 16\nmemory = "64g"\n`),
    ).toEqual([
      "config.toml: docker.cpus: expected a cpus limit per runner (e.g. 2): hosts[0] has a cpus budget, which is the sum of the runners' limits, got 0 (no limit)",
      'config.toml: docker.memory: expected a memory limit per runner (e.g. "8g"): hosts[0] has a memory budget, which is the sum of the runners\' limits, got 0 (no limit)',
    ]);
    expect(
      await problems(
        `${BASE}[docker]\ncpus = 4\nmemory = "8g"\n[[docker.hosts]]\nurl = "tcp://b:2375"\ncpus = 2\nmemory = "4g"\n`,
      ),
    ).toEqual([
      "config.toml: docker.hosts[0].cpus: expected a cpus budget of at least one runner's [docker] cpus (4), got 2: no runner would ever fit",
      "config.toml: docker.hosts[0].memory: expected a memory budget of at least one runner's [docker] memory (8GiB), got 4GiB: no runner would ever fit",
    ]);
    // A host without a budget takes the engine's size, which runners without limits do not count against.
    await expect(
      loadSet(`${BASE}[[docker.hosts]]\nurl = "tcp://b:2375"\nmax-runners = 4\n`),
    ).resolves.toBeDefined();
  });
});

describe('[[docker.hosts]] shared by scale sets', () => {
  const sets = (a: string, b: string) => `url = "https://github.com/o"
[docker]
cpus = 2
memory = "4g"
[[scaleset]]
name = "a"
${a}
[[scaleset]]
name = "b"
${b}
`;
  const host = (url: string, extra = '') => `[[scaleset.docker.hosts]]\nurl = "${url}"\n${extra}`;

  it('share one host when they agree on its budget', async () => {
    const config = await load(
      sets(
        host('tcp://b:2375', 'cpus = 16\n'),
        `${host('tcp://b:2375', 'cpus = 16\n')}${host('tcp://c:2375')}`,
      ),
    );
    expect(config.scaleSets.map((s) => s.docker.hosts.map((h) => h.name))).toEqual([['b'], ['b', 'c']]);
  });

  it('must agree on a shared host budget: the error names both sets', async () => {
    expect(
      await problems(
        sets(
          host('tcp://b:2375', 'max-runners = 8\ncpus = 16\n'),
          host('tcp://b:2375', 'max-runners = 4\nmemory = "32g"\n'),
        ),
      ),
    ).toEqual([
      'config.toml: scaleset[1].docker.hosts[0].max-runners: expected the same max-runners as scaleset[0] (hosts[0]) gives "tcp://b:2375": one host has one budget, shared by every scale set on it; got 4 here and 8 there',
      'config.toml: scaleset[1].docker.hosts[0].cpus: expected the same cpus as scaleset[0] (hosts[0]) gives "tcp://b:2375": one host has one budget, shared by every scale set on it; got none (the engine\'s own) here and 16 there',
      'config.toml: scaleset[1].docker.hosts[0].memory: expected the same memory as scaleset[0] (hosts[0]) gives "tcp://b:2375": one host has one budget, shared by every scale set on it; got 32GiB here and none (the engine\'s own) there',
    ]);
  });

  it('compares a single [docker] host with the hosts of other sets', async () => {
    expect(
      await problems(sets('[scaleset.docker]\nhost = "tcp://b:2375"\n', host('tcp://b:2375', 'cpus = 16\n'))),
    ).toEqual([
      'config.toml: scaleset[1].docker.hosts[0].cpus: expected the same cpus as scaleset[0] (docker.host) gives "tcp://b:2375": one host has one budget, shared by every scale set on it; got 16 here and none (the engine\'s own) there',
    ]);
  });

  it('gives one host one name, and one name one host', async () => {
    expect(
      await problems(sets(host('tcp://b:2375', 'name = "build"\n'), host('tcp://b:2375', 'name = "b2"\n'))),
    ).toEqual([
      'config.toml: scaleset[1].docker.hosts[0].name: expected the name scaleset[0] (hosts[0]) gives "tcp://b:2375" ("build"), got "b2": one host has one name',
    ]);
    expect(
      await problems(
        sets(host('tcp://b:2375', 'name = "build"\n'), host('tcp://c:2375', 'name = "build"\n')),
      ),
    ).toEqual([
      'config.toml: scaleset[1].docker.hosts[0].name: expected a host name no other engine has, got "build" for "tcp://c:2375", which scaleset[0] (hosts[0]) gives "tcp://b:2375"',
    ]);
  });
});
