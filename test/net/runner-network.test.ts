import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import type { ScaleSetConfig } from '../../src/config/types.js';
import {
  CA_VARIABLES,
  proxyEnvironment,
  runnerNetwork,
  runnerVariables,
  unreachableProxyWarning,
} from '../../src/net/runner-network.js';
import { useNetworkTools } from '../setup/network-tools.js';
import { TestPki } from '../support/pki.js';

/**
 * What a scale set's runners get of its network (`runner-env`), from configs loaded the way `runner
 * run` loads them: the proxy is the daemon's own decision, the CA what the daemon trusts beyond Node's
 * roots.
 */

useNetworkTools();

const PASSWORD = 'runn3r-pr0xy-pw';
let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-env-'));
  pki = await TestPki.create(dir, 'runners-ca');
}, 30_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setFor(toml: string, env: NodeJS.ProcessEnv = {}): Promise<ScaleSetConfig> {
  const config = await parseConfigText(
    `url = "https://ghes.corp.example/org"\nname = "net"\ntoken = "env:PAT"\n${toml}`,
    join(dir, 'config.toml'),
    { PAT: 'ghp_x', ...env },
  );
  const set = config.scaleSets[0];
  if (!set) throw new Error('no scale set');
  return set;
}

const fingerprints = (pem: string) =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (c) => new X509Certificate(c).fingerprint256,
  );

describe('runner-env: the proxy runners get', () => {
  it('is the proxy key with its credentials, in both cases, with NO_PROXY; the description hides them', async () => {
    const set = await setFor(
      `proxy = "env:CORP_PROXY"\nno-proxy = ["localhost", ".corp.example", "10.0.0.0/8"]\n`,
      { CORP_PROXY: `http://ci:${PASSWORD}@proxy.corp.example:3128` },
    );
    expect(set.runnerEnv).toBe('network');
    const rn = runnerNetwork(set.network, set.runnerEnv);
    const url = `http://ci:${PASSWORD}@proxy.corp.example:3128`;
    expect(Object.fromEntries(proxyEnvironment(rn))).toEqual({
      HTTP_PROXY: url,
      http_proxy: url,
      HTTPS_PROXY: url,
      https_proxy: url,
      NO_PROXY: 'localhost,.corp.example,10.0.0.0/8',
      no_proxy: 'localhost,.corp.example,10.0.0.0/8',
    });
    expect(rn.description).toBe('proxy http://proxy.corp.example:3128 (proxy, with credentials); no CA');
    expect(JSON.stringify(rn)).not.toContain(PASSWORD);
  });

  it('follows the environment where the keys are unset, the way the daemon routes: no HTTP_PROXY fallback', async () => {
    const set = await setFor('', { https_proxy: 'proxy.corp:3128', NO_PROXY: '.internal' });
    const rn = runnerNetwork(set.network, set.runnerEnv);
    expect(proxyEnvironment(rn)).toEqual([
      ['HTTPS_PROXY', 'http://proxy.corp:3128'],
      ['https_proxy', 'http://proxy.corp:3128'],
      ['NO_PROXY', '.internal'],
      ['no_proxy', '.internal'],
    ]);
    expect(rn.description).toBe('proxy http://proxy.corp:3128 (https_proxy); no CA');
  });

  it('proxy = "" gives runners no proxy even when the daemon’s environment has one', async () => {
    const set = await setFor('proxy = ""\n', { HTTPS_PROXY: 'http://proxy:3128' });
    expect(proxyEnvironment(runnerNetwork(set.network, set.runnerEnv))).toEqual([]);
  });

  it('"ca" and "none" pass no proxy; "none" passes nothing at all', async () => {
    const toml = (choice: string) =>
      `proxy = "http://proxy:3128"\nca-file = "${pki.caFile}"\nrunner-env = "${choice}"\n`;
    const ca = await setFor(toml('ca'));
    const caOnly = runnerNetwork(ca.network, ca.runnerEnv);
    expect(caOnly.proxy).toEqual([]);
    expect(caOnly.ca).toBeDefined();
    const proxy = await setFor(toml('proxy'));
    const proxyOnly = runnerNetwork(proxy.network, proxy.runnerEnv);
    expect(proxyOnly.ca).toBeUndefined();
    expect(proxyOnly.proxy.length).toBe(4);
    const none = await setFor(toml('none'));
    const nothing = runnerNetwork(none.network, none.runnerEnv);
    expect([nothing.proxy, nothing.ca, nothing.description]).toEqual([
      [],
      undefined,
      'nothing (runner-env = "none")',
    ]);
    expect(runnerVariables(nothing, '/etc/runner-ca')).toEqual([]);
  });

  it('a runner-env that is not a choice is a config error naming the key and the choices', async () => {
    await expect(setFor('runner-env = "inherit"\n')).rejects.toThrow(
      /runner-env.*one of "network", "proxy", "ca", "none"/,
    );
  });
});

describe('runner-env: the CA runners get', () => {
  it('without ca-file or use-system-ca there is none: the image keeps its own store', async () => {
    const set = await setFor('');
    expect(runnerNetwork(set.network, set.runnerEnv).ca).toBeUndefined();
  });

  it('ca-file: ca.pem holds that CA; bundle.pem Node’s roots and it; the variables name both', async () => {
    const set = await setFor(`ca-file = "${pki.caFile}"\n`);
    const rn = runnerNetwork(set.network, set.runnerEnv);
    const ca = rn.ca;
    if (!ca) throw new Error('no CA');
    const mine = new X509Certificate(pki.caPem).fingerprint256;
    expect(fingerprints(ca.extra)).toEqual([mine]);
    const bundled = getCACertificates('bundled').map((c) => new X509Certificate(c).fingerprint256);
    expect(fingerprints(ca.bundle)).toEqual([...bundled, mine]);
    expect(ca.from).toBe(`ca-file ${pki.caFile}: 1 certificate beyond Node's roots`);
    expect(runnerVariables(rn, '/etc/runner-ca')).toEqual([
      ['NODE_EXTRA_CA_CERTS', '/etc/runner-ca/ca.pem'],
      ['SSL_CERT_FILE', '/etc/runner-ca/bundle.pem'],
      ['GIT_SSL_CAINFO', '/etc/runner-ca/bundle.pem'],
      ['CURL_CA_BUNDLE', '/etc/runner-ca/bundle.pem'],
      ['REQUESTS_CA_BUNDLE', '/etc/runner-ca/bundle.pem'],
    ]);
    expect(CA_VARIABLES.map(([n]) => n)).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('a ca-file certificate Node already trusts adds nothing, so a bundle of public roots passes no CA', async () => {
    const publicRoot = getCACertificates('bundled')[0] ?? '';
    const file = join(dir, 'public.pem');
    await writeFile(file, `${publicRoot}\n`);
    const set = await setFor(`ca-file = "${file}"\n`);
    expect(runnerNetwork(set.network, set.runnerEnv).ca).toBeUndefined();
  });

  it('use-system-ca: what the host’s store trusts beyond Node’s roots reaches the runners, once each', async () => {
    const bundled = new Set(getCACertificates('bundled').map((c) => new X509Certificate(c).fingerprint256));
    const beyond = [
      ...new Set(
        getCACertificates('system')
          .map((c) => new X509Certificate(c).fingerprint256)
          .filter((f) => !bundled.has(f)),
      ),
    ];
    const set = await setFor(`use-system-ca = true\nca-file = "${pki.caFile}"\n`);
    const ca = runnerNetwork(set.network, set.runnerEnv).ca;
    const mine = new X509Certificate(pki.caPem).fingerprint256;
    expect(fingerprints(ca?.extra ?? '')).toEqual([mine, ...beyond.filter((f) => f !== mine)]);
    expect(ca?.from).toMatch(/^ca-file .* \+ system store: \d+ certificates? beyond Node's roots$/);
  });

  it('insecure-skip-tls-verify is the daemon’s alone: runners get no variable that turns verification off', async () => {
    const set = await setFor(`insecure-skip-tls-verify = true\nca-file = "${pki.caFile}"\n`);
    const names = runnerVariables(runnerNetwork(set.network, set.runnerEnv), '/x').map(([n]) => n);
    expect(names.filter((n) => /NO_VERIFY|INSECURE|REJECT_UNAUTHORIZED/.test(n))).toEqual([]);
  });
});

describe('a proxy runners cannot reach', () => {
  const proxyOn = async (url: string, extra = '') => {
    const set = await setFor(`proxy = "${url}"\n${extra}`);
    return { set, rn: runnerNetwork(set.network, set.runnerEnv) };
  };

  it('is warned about when it is this host’s loopback and runners live elsewhere', async () => {
    const { set, rn } = await proxyOn('http://127.0.0.1:3128', '[docker]\nnetwork = "bridge"\n');
    expect(unreachableProxyWarning(rn, set)).toMatch(
      /^runners get HTTP_PROXY=http:\/\/127\.0\.0\.1:3128, this host's loopback: from a container it is not reachable\. .*\[docker\] env/,
    );
    const tart = { ...set, backend: 'tart' };
    expect(unreachableProxyWarning(rn, tart)).toMatch(/from a VM .*\.env file/);
  });

  it('is not warned about on the host network, when [docker] env replaces it, or when it is elsewhere', async () => {
    const host = await proxyOn('http://localhost:3128', '[docker]\nnetwork = "host"\n');
    expect(unreachableProxyWarning(host.rn, host.set)).toBeUndefined();
    const replaced = await proxyOn(
      'http://[::1]:3128',
      '[docker.env]\nhttps_proxy = "http://10.0.0.1:3128"\nHTTP_PROXY = "http://10.0.0.1:3128"\n',
    );
    expect(unreachableProxyWarning(replaced.rn, replaced.set)).toBeUndefined();
    const remote = await proxyOn('http://proxy.corp.example:3128');
    expect(unreachableProxyWarning(remote.rn, remote.set)).toBeUndefined();
  });
});
