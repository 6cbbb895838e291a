import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { explainConnectError } from '../../backends/docker/connect-errors.js';
import { buildCreateRequest, CONTAINER_CA_DIR, JIT_ENV } from '../../backends/docker/container-spec.js';
import { ExitTracker, GONE_REASON, OOM_REASON } from '../../backends/docker/exit-tracker.js';
import {
  dockerClientFor,
  dockerOptionsFor,
  engineKey,
  engineSocketPath,
} from '../../backends/docker/host.js';
import { matchesPlatform } from '../../backends/docker/image.js';
import { jsonLines } from '../../backends/docker/json-lines.js';
import { exitCodeFromStatus } from '../../backends/docker/ownership.js';
import type { OwnedRunner } from '../../backends/types.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_RUNNER_NAME, LABEL_SCALE_SET } from '../../src/labels.js';
import { proxyEndpoint } from '../../src/net/proxy-url.js';
import type { RunnerNetwork } from '../../src/net/runner-network.js';
import { makeOwner, makeSpec } from './conformance.js';
import { dockerConfig } from './docker-fixtures.js';

// Pure parts of the Docker backend; everything that talks to an engine is tested on a real one.

describe('docker host', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('maps unix, tcp and ssh hosts to client options', () => {
    expect(dockerOptionsFor('')).toEqual({});
    expect(dockerOptionsFor('unix:///run/user/1000/docker.sock')).toMatchObject({
      socketPath: '/run/user/1000/docker.sock',
      host: undefined,
    });
    expect(dockerOptionsFor('tcp://10.0.0.5')).toMatchObject({
      host: '10.0.0.5',
      port: '2375',
      protocol: 'http',
    });
    expect(dockerOptionsFor('tcp://10.0.0.5:2376', {})).toMatchObject({ port: '2376', protocol: 'https' });
    expect(dockerOptionsFor('ssh://ci@build-host:2222', { SSH_AUTH_SOCK: '/tmp/agent' })).toMatchObject({
      protocol: 'ssh',
      host: 'build-host',
      port: '2222',
      username: 'ci',
      sshOptions: { agent: '/tmp/agent' },
    });
  });

  it('reads TLS client certificates from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY=1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certs-'));
    for (const f of ['ca', 'cert', 'key']) await writeFile(join(dir, `${f}.pem`), `${f}-pem`);
    const opts = dockerOptionsFor('tcp://d:9000', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    expect(opts).toMatchObject({ protocol: 'https', port: '9000' });
    expect(String(opts.cert)).toBe('cert-pem');
  });

  it('uses exactly the TLS files of a [[docker.hosts]] entry, never DOCKER_CERT_PATH', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certs-'));
    const env = await mkdtemp(join(tmpdir(), 'env-certs-'));
    try {
      for (const f of ['ca', 'cert', 'key']) {
        await writeFile(join(dir, `mine-${f}.pem`), `mine-${f}`);
        // docker-modem reads DOCKER_CERT_PATH's ca.pem as a PEM bundle when DOCKER_HOST is set.
        await writeFile(
          join(env, `${f}.pem`),
          `-----BEGIN CERTIFICATE-----\nenv-${f}\n-----END CERTIFICATE-----\n`,
        );
      }
      const host = {
        name: 'b',
        url: 'tcp://build-2',
        tlsCa: join(dir, 'mine-ca.pem'),
        tlsCert: join(dir, 'mine-cert.pem'),
        tlsKey: join(dir, 'mine-key.pem'),
      };
      const opts = dockerOptionsFor(host, { DOCKER_CERT_PATH: env, DOCKER_TLS_VERIFY: '1' });
      // TLS files mean TLS, on the TLS port when the url has none.
      expect(opts).toMatchObject({ protocol: 'https', host: 'build-2', port: '2376' });
      expect([String(opts.ca), String(opts.cert), String(opts.key)]).toEqual([
        'mine-ca',
        'mine-cert',
        'mine-key',
      ]);
      // Only a CA: the client presents no certificate, and none comes from the environment either.
      vi.stubEnv('DOCKER_HOST', 'tcp://elsewhere:2376');
      vi.stubEnv('DOCKER_CERT_PATH', env);
      const caOnly = { name: 'b', url: 'tcp://build-2:2376', tlsCa: join(dir, 'mine-ca.pem') };
      const modem = new Docker(dockerOptionsFor(caOnly)).modem as unknown as Record<string, unknown>;
      expect([String(modem.ca), modem.cert, modem.key, modem.protocol]).toEqual([
        'mine-ca',
        undefined,
        undefined,
        'https',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(env, { recursive: true, force: true });
    }
  });

  it('names the host, key and file when a TLS file is gone by the time the client is made', () => {
    const host = { name: 'build-2', url: 'tcp://build-2:2376', tlsCa: '/nonexistent/ca.pem' };
    expect(() => dockerOptionsFor(host)).toThrow(
      expect.objectContaining({
        code: 'DOCKER_TLS_FILE',
        message: expect.stringMatching(
          /^\[\[docker\.hosts\]\] "build-2" tls-ca: cannot read "\/nonexistent\/ca\.pem" \(ENOENT/,
        ),
      }),
    );
  });

  it('shares one client per url and TLS identity', () => {
    const plain = { name: 'b', url: 'tcp://build-9:2375' };
    const tls = { ...plain, url: 'tcp://build-9:2376', tlsCa: '/etc/a.pem' };
    expect(engineKey(plain)).toBe('tcp://build-9:2375');
    expect(engineKey(tls)).not.toBe(engineKey({ ...tls, tlsCa: '/etc/b.pem' }));
    expect(dockerClientFor(plain)).toBe(dockerClientFor('tcp://build-9:2375'));
    expect(dockerClientFor(plain)).toBe(dockerClientFor({ ...plain, name: 'other-name' }));
    expect(dockerClientFor(plain)).not.toBe(dockerClientFor('tcp://build-9:2377'));
  });

  it('an explicit unix host is not overridden by a tcp DOCKER_HOST in the environment', () => {
    vi.stubEnv('DOCKER_HOST', 'tcp://elsewhere:2375');
    const modem = new Docker(dockerOptionsFor('unix:///tmp/mine.sock')).modem as {
      socketPath?: unknown;
      host?: unknown;
    };
    expect(modem.socketPath).toBe('/tmp/mine.sock');
    expect(modem.host).toBeUndefined();
  });

  it('rejects what is not a Docker host, naming the key', () => {
    for (const bad of ['http://x:2375', 'docker.sock', 'tcp://']) {
      expect(() => dockerOptionsFor(bad)).toThrow(expect.objectContaining({ code: 'DOCKER_INVALID_HOST' }));
    }
    expect(() => dockerOptionsFor('nope')).toThrow(/\[docker\] host "nope"/);
  });

  it('binds the local socket for dind, the conventional path for remote engines', () => {
    expect(engineSocketPath('unix:///run/docker-rootless.sock')).toBe('/run/docker-rootless.sock');
    expect(engineSocketPath('', { DOCKER_HOST: 'unix:///x.sock' })).toBe('/x.sock');
    expect(engineSocketPath('', {})).toBe('/var/run/docker.sock');
    expect(engineSocketPath('ssh://h')).toBe('/var/run/docker.sock');
  });
});

describe('docker host connection failures', () => {
  const host = {
    name: 'build-2',
    url: 'tcp://build-2:2376',
    tlsCa: '/etc/runner/docker/ca.pem',
    tlsCert: '/etc/runner/docker/cert.pem',
    tlsKey: '/etc/runner/docker/key.pem',
  };
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
  const explain = (err: unknown, h: Parameters<typeof explainConnectError>[0] = host) =>
    explainConnectError(h, err, {});

  it('an engine certificate its CA did not issue names tls-ca and its file', () => {
    const e = explain(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'));
    expect(e?.code).toBe('DOCKER_TLS');
    expect(e?.message).toBe(
      `[[docker.hosts]] "build-2" (tcp://build-2:2376): the engine's certificate is not issued by the CA in tls-ca ("/etc/runner/docker/ca.pem"): set tls-ca to the CA that issued the engine's certificate (dockerd --tlscert) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
    expect(
      explain(coded('SELF_SIGNED_CERT_IN_CHAIN'), { name: 'b', url: 'tcp://b:2376' })?.message,
    ).toContain('set tls-ca to the CA that issued it');
  });

  it('a client certificate the engine refuses names tls-cert and its file; none at all says to set it', () => {
    for (const code of [
      'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
    ]) {
      expect(explain(coded(code))?.message).toContain(
        'the engine refused the client certificate in tls-cert ("/etc/runner/docker/cert.pem"): tls-cert and its key must be issued by the CA the engine trusts (dockerd --tlscacert)',
      );
    }
    const bare = { name: 'b', url: 'tcp://b:2376', tlsCa: '/ca.pem' };
    expect(explain(coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), bare)?.message).toContain(
      'the engine requires a client certificate: set tls-cert and tls-key',
    );
  });

  it('names the key and certificate that do not belong together, and a wrong port', () => {
    expect(explain(coded('ERR_OSSL_X509_KEY_VALUES_MISMATCH'))?.message).toContain(
      'the private key in tls-key ("/etc/runner/docker/key.pem") is not the key of the certificate in tls-cert ("/etc/runner/docker/cert.pem")',
    );
    expect(explain(coded('ERR_SSL_WRONG_VERSION_NUMBER'))?.message).toContain(
      'the engine does not speak TLS on this port',
    );
    const plain = Object.assign(
      new Error('(HTTP code 400) unexpected - Client sent an HTTP request to an HTTPS server.'),
      {
        statusCode: 400,
      },
    );
    expect(explain(plain, { name: 'b', url: 'tcp://b:2376' })?.message).toContain(
      'the engine expects TLS on this port: set tls-ca, tls-cert and tls-key',
    );
  });

  it('DOCKER_CERT_PATH files are named when the host has no tls-* of its own', () => {
    const e = explainConnectError(
      { name: 'b', url: 'tcp://b:2376' },
      coded('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'),
      {
        DOCKER_CERT_PATH: '/home/ci/.docker',
      },
    );
    expect(e?.message).toContain(`DOCKER_CERT_PATH's cert.pem ("/home/ci/.docker/cert.pem")`);
  });

  it('an ssh login refused names the user and the agent; an engine that is away is not a problem to fix', () => {
    const ssh = Object.assign(new Error('All configured authentication methods failed'), {
      level: 'client-authentication',
    });
    const e = explainConnectError({ name: 'b', url: 'ssh://ci@b' }, ssh, {
      SSH_AUTH_SOCK: '/run/agent.sock',
    });
    expect(e?.code).toBe('DOCKER_AUTH');
    expect(e?.message).toBe(
      '[[docker.hosts]] "b" (ssh://ci@b): ssh refused user "ci" (All configured authentication methods failed): runner logs in with the keys of the ssh-agent at SSH_AUTH_SOCK ("/run/agent.sock"); add the key there and its public key to that user\'s authorized_keys on the host',
    );
    expect(explain(coded('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.2:2376'))).toBeUndefined();
    expect(explain(new DOMException('no answer', 'TimeoutError'))).toBeUndefined();
    expect(
      explain(Object.assign(new Error('(HTTP code 404) no such image'), { statusCode: 404 })),
    ).toBeUndefined();
  });
});

describe('docker create request', () => {
  it('keeps the JIT config in the body env only, last so [docker] env cannot replace it', () => {
    const owner = makeOwner();
    const spec = makeSpec(owner);
    const req = buildCreateRequest({
      spec,
      owner,
      image: 'img',
      docker: dockerConfig({ env: { [JIT_ENV]: 'forged', A: '1' }, command: [] }),
    });
    expect(JSON.stringify(req.query)).not.toContain(spec.jitConfig.reveal());
    expect(req.body.Env).toEqual(['A=1', `${JIT_ENV}=${spec.jitConfig.reveal()}`]);
    expect(req.body.Cmd).toEqual(['/home/runner/run.sh']);
    expect(req.query).toEqual({ name: spec.name });
    expect(req.body.Labels).toMatchObject({
      [LABEL_MANAGED_BY]: 'runner',
      [LABEL_INSTANCE]: owner.instanceId,
      [LABEL_SCALE_SET]: owner.scaleSet,
      [LABEL_RUNNER_NAME]: spec.name,
    });
  });

  it('maps limits, platform, tmpfs and the dind socket group', () => {
    const owner = makeOwner();
    const docker = dockerConfig({
      cpus: 1.5,
      platform: 'linux/arm64',
      dind: true,
      network: '',
      mounts: [{ type: 'tmpfs', source: 'ignored', target: '/t', readOnly: false }],
    });
    const req = buildCreateRequest({
      spec: makeSpec(owner),
      owner,
      image: 'i',
      docker,
      socket: { path: '/s', gid: 998 },
    });
    expect(req.query.platform).toBe('linux/arm64');
    expect(req.body.HostConfig?.NanoCpus).toBe(1_500_000_000);
    expect(req.body.HostConfig?.NetworkMode).toBeUndefined();
    expect(req.body.HostConfig?.Memory).toBeUndefined();
    expect(req.body.HostConfig?.GroupAdd).toEqual(['998']);
    expect(req.body.HostConfig?.Mounts).toEqual([
      { Type: 'tmpfs', Source: '', Target: '/t', ReadOnly: false },
      { Type: 'bind', Source: '/s', Target: '/var/run/docker.sock' },
    ]);
    const root = buildCreateRequest({
      spec: makeSpec(owner),
      owner,
      image: 'i',
      docker,
      socket: { path: '/s', gid: 0 },
    });
    expect(root.body.HostConfig?.GroupAdd).toBeUndefined();
    const off = buildCreateRequest({
      spec: makeSpec(owner),
      owner,
      image: 'i',
      docker: dockerConfig(),
      socket: { path: '/s' },
    });
    expect(off.body.HostConfig?.Mounts).toEqual([]);
  });
});

describe('docker create request: the runners’ proxy and CA', () => {
  const PASSWORD = 'c0ntainer-pr0xy-pw';
  const endpoint = proxyEndpoint(`http://ci:${PASSWORD}@proxy.corp:3128`, 'proxy');
  if (!endpoint) throw new Error('not a proxy URL');
  const url = endpoint.url.reveal();
  const network: RunnerNetwork = {
    choice: 'network',
    proxy: [
      { name: 'HTTPS_PROXY', value: endpoint.url },
      { name: 'https_proxy', value: endpoint.url },
      { name: 'NO_PROXY', value: '.corp' },
      { name: 'no_proxy', value: '.corp' },
    ],
    ca: { extra: 'EXTRA PEM\n', bundle: 'ROOTS AND EXTRA PEM\n', from: 'ca-file /x.pem' },
    description: 'proxy http://proxy.corp:3128',
  };

  it('puts the proxy and the CA variables in the body env only, before [docker] env and the JIT config', () => {
    const owner = makeOwner();
    const spec = makeSpec(owner);
    const req = buildCreateRequest({
      spec,
      owner,
      image: 'img',
      docker: dockerConfig({ env: { A: '1' } }),
      runnerNetwork: network,
    });
    expect(req.body.Env).toEqual([
      `HTTPS_PROXY=${url}`,
      `https_proxy=${url}`,
      'NO_PROXY=.corp',
      'no_proxy=.corp',
      `NODE_EXTRA_CA_CERTS=${CONTAINER_CA_DIR}/ca.pem`,
      `SSL_CERT_FILE=${CONTAINER_CA_DIR}/bundle.pem`,
      `GIT_SSL_CAINFO=${CONTAINER_CA_DIR}/bundle.pem`,
      `CURL_CA_BUNDLE=${CONTAINER_CA_DIR}/bundle.pem`,
      `REQUESTS_CA_BUNDLE=${CONTAINER_CA_DIR}/bundle.pem`,
      'A=1',
      `${JIT_ENV}=${spec.jitConfig.reveal()}`,
    ]);
    // Not in the query string (request lines are logged by proxies), labels, or the command.
    expect(JSON.stringify([req.query, req.body.Labels, req.body.Cmd, req.body.HostConfig])).not.toContain(
      PASSWORD,
    );
    expect(req.archive?.path).toBe('/');
  });

  it('[docker] env replaces a variable of ours in both cases, so no program reads the daemon’s from the other', () => {
    const owner = makeOwner();
    const req = buildCreateRequest({
      spec: makeSpec(owner),
      owner,
      image: 'img',
      docker: dockerConfig({
        env: { https_proxy: 'http://10.0.0.1:3128', SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' },
      }),
      runnerNetwork: network,
    });
    const env = req.body.Env ?? [];
    expect(env.filter((e) => /^https_proxy=/i.test(e))).toEqual(['https_proxy=http://10.0.0.1:3128']);
    expect(env.filter((e) => e.startsWith('SSL_CERT_FILE='))).toEqual([
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    ]);
    expect(env).toContain('no_proxy=.corp');
    expect(env).toContain(`GIT_SSL_CAINFO=${CONTAINER_CA_DIR}/bundle.pem`);
  });

  it('without a CA nothing is copied; without runner-env nothing is added', () => {
    const owner = makeOwner();
    const proxyOnly = buildCreateRequest({
      spec: makeSpec(owner),
      owner,
      image: 'img',
      docker: dockerConfig(),
      runnerNetwork: { ...network, ca: undefined },
    });
    expect(proxyOnly.archive).toBeUndefined();
    expect(proxyOnly.body.Env?.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS='))).toBe(false);
    const spec = makeSpec(owner);
    const none = buildCreateRequest({ spec, owner, image: 'img', docker: dockerConfig() });
    expect(none.body.Env).toEqual([`${JIT_ENV}=${spec.jitConfig.reveal()}`]);
    expect(none.archive).toBeUndefined();
  });

  it('the CA archive is a tar GNU tar reads: the directory and both files, root’s, read-only', async () => {
    const owner = makeOwner();
    const req = buildCreateRequest({
      spec: makeSpec(owner),
      owner,
      image: 'img',
      docker: dockerConfig(),
      runnerNetwork: network,
    });
    const dir = await mkdtemp(join(tmpdir(), 'ca-tar-'));
    const file = join(dir, 'ca.tar');
    await writeFile(file, req.archive?.tar ?? Buffer.alloc(0));
    const listing = (await execa('tar', ['--numeric-owner', '-tvf', file])).stdout.split('\n');
    expect(listing.map((l) => l.replace(/\s+/g, ' ').split(' '))).toEqual([
      ['drwxr-xr-x', '0/0', '0', expect.any(String), expect.any(String), 'etc/runner-ca/'],
      ['-r--r--r--', '0/0', '10', expect.any(String), expect.any(String), 'etc/runner-ca/ca.pem'],
      ['-r--r--r--', '0/0', '20', expect.any(String), expect.any(String), 'etc/runner-ca/bundle.pem'],
    ]);
    await execa('tar', ['-xf', file, '-C', dir]);
    expect(await readFile(join(dir, 'etc/runner-ca/ca.pem'), 'utf8')).toBe('EXTRA PEM\n');
    expect(await readFile(join(dir, 'etc/runner-ca/bundle.pem'), 'utf8')).toBe('ROOTS AND EXTRA PEM\n');
    await rm(dir, { recursive: true, force: true });
  });
});

describe('docker exit tracking', () => {
  const owner = makeOwner();
  const runner = (id: string, state: OwnedRunner['state'], exitCode?: number): OwnedRunner => ({
    name: `r-${id}`,
    resourceId: id,
    state,
    ...(exitCode === undefined ? {} : { exitCode }),
  });
  const event = (action: string, id: string, extra: Record<string, string> = {}) => ({
    Type: 'container',
    Action: action,
    timeNano: 1_700_000_000_123_000_000,
    Actor: {
      ID: id,
      Attributes: {
        name: `r-${id}`,
        [LABEL_MANAGED_BY]: 'runner',
        [LABEL_INSTANCE]: owner.instanceId,
        [LABEL_SCALE_SET]: owner.scaleSet,
        [LABEL_RUNNER_NAME]: `r-${id}`,
        ...extra,
      },
    },
  });

  it('reports an exit once whether the listing or the stream sees it first', () => {
    const t = new ExitTracker(owner);
    expect(
      t.reconcile([runner('a', 'exited', 2), runner('b', 'running')]).map((e) => [e.name, e.exitCode]),
    ).toEqual([['r-a', 2]]);
    // Buffered in the stream from before the listing: a's start and die were already covered by it.
    expect(t.onEvent(event('start', 'a'))).toBeUndefined();
    expect(t.onEvent(event('die', 'a', { exitCode: '2' }))).toBeUndefined();
    const e = t.onEvent(event('die', 'b', { exitCode: '137' }));
    expect(e).toMatchObject({ name: 'r-b', resourceId: 'b', exitCode: 137 });
    expect(e?.at.getTime()).toBe(1_700_000_000_123);
    expect(t.reconcile([runner('a', 'exited', 2), runner('b', 'exited', 137)])).toEqual([]);
  });

  it('after a gap reports runners that exited or vanished, not ones that were already gone', () => {
    const t = new ExitTracker(owner);
    t.reconcile([runner('a', 'running'), runner('b', 'running'), runner('c', 'exited', 0)]);
    t.onEvent(event('start', 'd'));
    const after = t.reconcile([runner('a', 'exited', 1), runner('d', 'running'), runner('e', 'exited', 3)]);
    expect(after.map((e) => [e.name, e.exitCode, e.reason])).toEqual([
      ['r-b', undefined, GONE_REASON],
      ['r-a', 1, undefined],
      ['r-e', 3, undefined],
    ]);
  });

  it('an exit the engine announced with an oom event carries the OOMKilled reason; others do not', () => {
    const t = new ExitTracker(owner);
    t.reconcile([runner('a', 'running'), runner('b', 'running')]);
    expect(t.onEvent(event('oom', 'a'))).toBeUndefined();
    expect(t.onEvent(event('die', 'a', { exitCode: '137' }))).toMatchObject({
      name: 'r-a',
      exitCode: 137,
      reason: OOM_REASON,
    });
    expect(t.onEvent(event('die', 'b', { exitCode: '137' }))?.reason).toBeUndefined();
  });

  it("ignores other owners' and non-runner containers", () => {
    const t = new ExitTracker(owner);
    expect(t.onEvent(event('die', 'x', { [LABEL_INSTANCE]: 'someone-else' }))).toBeUndefined();
    expect(t.onEvent(event('die', 'y', { name: 'buildx_buildkit_y0' }))).toBeUndefined();
    expect(t.onEvent({ Type: 'network', Action: 'die' })).toBeUndefined();
    expect(t.onEvent({ Type: 'container', Action: 'die', Actor: 'garbage' })).toBeUndefined();
  });
});

describe('docker output parsing', () => {
  it('reads the exit code from the list status text', () => {
    expect(exitCodeFromStatus('Exited (3) 2 seconds ago')).toBe(3);
    expect(exitCodeFromStatus('Exited (137) About a minute ago')).toBe(137);
    expect(exitCodeFromStatus('Up 3 seconds')).toBeUndefined();
    expect(exitCodeFromStatus(undefined)).toBeUndefined();
  });

  it('matches platforms by os, architecture and variant', () => {
    const arm = { Os: 'linux', Architecture: 'arm64', Variant: 'v8' };
    expect(matchesPlatform(arm, 'linux/arm64')).toBe(true);
    expect(matchesPlatform(arm, 'linux/arm64/v8')).toBe(true);
    expect(matchesPlatform(arm, 'linux/amd64')).toBe(false);
    expect(matchesPlatform({ Os: 'linux', Architecture: 'amd64' }, 'linux/amd64')).toBe(true);
  });

  it('splits newline-delimited JSON across chunks and skips garbage', async () => {
    const stream = Readable.from(['{"a":1}\n{"b"', ':2}\nnot json\n[1]\n', '{"c":3}']);
    const got: unknown[] = [];
    for await (const o of jsonLines(stream)) got.push(o);
    expect(got).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });
});
