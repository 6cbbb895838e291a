import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { noProxyMatch, parseNoProxy } from '../../src/net/no-proxy.js';
import { proxyEndpoint } from '../../src/net/proxy-url.js';
import { describeRoute, routeFor } from '../../src/net/route.js';
import { DIRECT_NETWORK, type NetworkConfig } from '../../src/net/types.js';

const bypasses = (noProxy: string, url: string) => {
  const u = new URL(url);
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  return noProxyMatch(parseNoProxy(noProxy), u.hostname, port)?.text;
};

describe('NO_PROXY rules', () => {
  it.each([
    // [NO_PROXY, URL, the entry that keeps it off the proxy (undefined: proxied)]
    ['example.com', 'https://example.com/x', 'example.com'],
    ['example.com', 'https://api.example.com/x', 'example.com'],
    ['example.com', 'https://notexample.com/x', undefined],
    ['.example.com', 'https://example.com/', '.example.com'],
    ['.example.com', 'https://a.b.example.com/', '.example.com'],
    ['*.example.com', 'https://a.example.com/', '*.example.com'],
    ['*.example.com', 'https://example.com/', undefined],
    ['EXAMPLE.com.', 'https://Example.COM/', 'EXAMPLE.com.'],
    ['*', 'https://anything.test/', '*'],
    ['none.test, *', 'https://anything.test/', '*'],
    ['*:80', 'https://anything.test/', undefined],
    ['*:80', 'http://anything.test/', '*:80'],
    ['ghes.corp:8443', 'https://ghes.corp:8443/', 'ghes.corp:8443'],
    ['ghes.corp:8443', 'https://ghes.corp/', undefined],
    ['127.0.0.1', 'https://127.0.0.1:4443/', '127.0.0.1'],
    ['10.0.0.0/8', 'https://10.20.30.40/', '10.0.0.0/8'],
    ['10.0.0.0/8', 'https://11.0.0.1/', undefined],
    // A name is never resolved to be compared with a range (as in Go).
    ['127.0.0.0/8', 'https://localhost/', undefined],
    ['::1', 'https://[::1]:443/', '::1'],
    ['[::1]:8443', 'https://[::1]:8443/', '[::1]:8443'],
    ['[::1]:8443', 'https://[::1]:443/', undefined],
    ['fd00::/8', 'https://[fd12::1]/', 'fd00::/8'],
    ['a.test b.test,,c.test', 'https://c.test/', 'c.test'],
    // localhost is not special: it is proxied unless listed (curl's and undici's rule, not Go's).
    ['', 'http://localhost:8080/', undefined],
  ])('NO_PROXY=%j, %s → %s', (noProxy, url, entry) => {
    expect(bypasses(noProxy, url)).toBe(entry);
  });
});

function net(over: Partial<NetworkConfig>): NetworkConfig {
  return { ...DIRECT_NETWORK, ...over };
}

describe('routes', () => {
  const proxy = proxyEndpoint('http://user:pw-is-long@proxy.corp:3128', 'HTTPS_PROXY');
  const plain = proxyEndpoint('proxy.corp:3128', 'HTTP_PROXY');

  it('say where they go, never with the credentials', () => {
    const n = net({ httpsProxy: proxy, noProxy: { entries: parseNoProxy('.internal'), from: 'NO_PROXY' } });
    expect(describeRoute(routeFor(n, 'https://api.github.com/x'))).toBe(
      'via proxy http://proxy.corp:3128 (HTTPS_PROXY, with credentials)',
    );
    expect(describeRoute(routeFor(n, 'https://ghes.internal/api/v3'))).toBe('direct (NO_PROXY: .internal)');
    expect(describeRoute(routeFor(n, 'http://release.mirror/x'))).toBe('direct');
  });

  it('HTTP_PROXY is for http:// only: an https URL goes direct, and the route says why', () => {
    const n = net({ httpProxy: plain });
    expect(plain?.shown).toBe('http://proxy.corp:3128');
    expect(describeRoute(routeFor(n, 'http://mirror.test/x'))).toBe(
      'via proxy http://proxy.corp:3128 (HTTP_PROXY)',
    );
    expect(describeRoute(routeFor(n, 'https://api.github.com/'))).toBe(
      'direct (HTTP_PROXY is for http:// URLs only; HTTPS_PROXY or proxy covers https://)',
    );
  });
});

describe('network keys and the environment', () => {
  const base = 'url = "https://github.com/o"\nname = "n"\ntoken = "env:TOK"\n';
  const load = (toml: string, env: NodeJS.ProcessEnv = {}) =>
    parseConfigText(base + toml, 'c.toml', { TOK: 't0ken-value', ...env });

  it('HTTPS_PROXY and NO_PROXY apply when the keys are unset; lower case wins over upper case', async () => {
    const c = await load('', {
      HTTPS_PROXY: 'http://upper:3128',
      https_proxy: 'http://lower:3128',
      NO_PROXY: '.corp',
    });
    const n = c.scaleSets[0]?.network;
    expect(n?.httpsProxy).toMatchObject({ shown: 'http://lower:3128', from: 'https_proxy' });
    expect(n?.httpProxy).toBeUndefined();
    expect(n?.noProxy?.from).toBe('NO_PROXY');
    expect(n?.noProxy?.entries.map((e) => e.text)).toEqual(['.corp']);
  });

  it('proxy and no-proxy override the environment; proxy = "" turns an environment proxy off', async () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:3128', NO_PROXY: '*' };
    const set = (await load('proxy = "http://cfg-proxy:8080"\nno-proxy = ["10.0.0.0/8"]\n', env))
      .scaleSets[0];
    expect(set?.network.httpsProxy).toMatchObject({ shown: 'http://cfg-proxy:8080', from: 'proxy' });
    expect(set?.network.httpProxy).toMatchObject({ shown: 'http://cfg-proxy:8080', from: 'proxy' });
    expect(set?.network.noProxy).toMatchObject({ from: 'no-proxy' });
    const off = (await load('proxy = ""\n', env)).scaleSets[0];
    expect(off?.network.httpsProxy).toBeUndefined();
    expect(describeRoute(routeFor(off!.network, 'https://api.github.com/'))).toBe('direct (proxy = "")');
  });

  it('a [[scaleset]] may have its own proxy; the others inherit the top level', async () => {
    const c = await load(
      'proxy = "http://corp:3128"\n[[scaleset]]\nname = "a"\n[[scaleset]]\nname = "b"\nurl = "https://ghes.other/o"\nproxy = "http://other:3128"\nuse-system-ca = true\n',
    );
    expect(c.scaleSets.map((s) => [s.name, s.network.httpsProxy?.shown, s.network.useSystemCa])).toEqual([
      ['a', 'http://corp:3128', false],
      ['b', 'http://other:3128', true],
    ]);
  });

  it('a proxy with a password written in the file makes the file hold a secret; "env:VAR" and no password do not', async () => {
    expect((await load('proxy = "http://u:longpassword@p:3128"\n')).fileSecrets).toEqual(['proxy']);
    expect((await load('proxy = "http://p:3128"\n')).fileSecrets).toEqual([]);
    const fromEnv = await load('proxy = "env:CORP_PROXY"\n', { CORP_PROXY: 'http://u:longpassword@p:3128' });
    expect(fromEnv.fileSecrets).toEqual([]);
    expect(fromEnv.scaleSets[0]?.network.httpsProxy).toMatchObject({
      shown: 'http://p:3128',
      credentials: true,
    });
  });

  it('errors name the file, the key or variable, and what was expected, and never repeat a credential', async () => {
    const problems = async (toml: string, env: NodeJS.ProcessEnv = {}) =>
      load(toml, env).then(
        () => [],
        (err: { lines: string[] }) => err.lines,
      );
    expect(await problems('proxy = "socks5://p:1080"\n')).toEqual([
      expect.stringMatching(/^c\.toml: proxy: expected a proxy URL like "http:\/\/proxy\.example\.com:3128"/),
    ]);
    expect(await problems('proxy = "env:NOPE"\n')).toEqual([
      expect.stringContaining('environment variable NOPE is not set'),
    ]);
    const bad = await problems('', { HTTPS_PROXY: 'ftp://user:hunter2hunter2@p' });
    expect(bad).toEqual([expect.stringMatching(/^env HTTPS_PROXY: expected a proxy URL/)]);
    expect(bad.join('')).not.toContain('hunter2');
    expect(await problems('ca-file = "/nonexistent/ca.pem"\n')).toEqual([
      expect.stringMatching(/^c\.toml: ca-file: .*\/nonexistent\/ca\.pem/),
    ]);
  });
});
