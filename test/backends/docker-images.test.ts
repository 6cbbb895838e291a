import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/secret.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE, testDocker, useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { makeOwner, makeSpec } from './conformance.js';
import { memoryLogger, rejectionOf, useBackends } from './docker-fixtures.js';

useDocker();

const missingImage = () => `runner-fake:missing-${randomBytes(4).toString('hex')}`;
const isPull = (r: { method: string; url: string }) =>
  r.method === 'POST' && /\/images\/create\?/.test(r.url);

describe('docker image pull policy', () => {
  const backends = useBackends();
  const sig = () => AbortSignal.timeout(30_000);

  async function proxy() {
    const p = await DockerProxy.start();
    backends.defer(() => p.close());
    return p;
  }

  async function expectNothingCreated(owner: ReturnType<typeof makeOwner>, name: string) {
    const containers = await testDocker.listContainers({ all: true, filters: { name: [name] } });
    expect(containers).toEqual([]);
    expect(await backends.make(owner).listOwned(sig())).toEqual([]);
  }

  it('never + missing image: a clear error naming the image, no pull, nothing created', async () => {
    const p = await proxy();
    const owner = makeOwner();
    const image = missingImage();
    const backend = backends.make(owner, { host: p.host, pullPolicy: 'never' }, undefined, image);
    const spec = makeSpec(owner);
    const err = await rejectionOf(backend.start(spec, sig()));
    expect(err).toMatchObject({ code: 'DOCKER_IMAGE_MISSING' });
    expect(err.message).toContain(`"${image}"`);
    expect(err.message).toContain('pull-policy');
    expect(p.requests.filter(isPull)).toEqual([]);
    expect(p.requestsTo('POST', '/containers/create')).toEqual([]);
    await expectNothingCreated(owner, spec.name);
  });

  it('if-not-present + missing image + failing registry: the pull error names the image', async () => {
    const p = await proxy();
    p.intercept = (r) =>
      isPull(r)
        ? { status: 200, body: '{"status":"Pulling"}\n{"error":"registry unreachable"}\n' }
        : undefined;
    const owner = makeOwner();
    const image = missingImage();
    const backend = backends.make(owner, { host: p.host, pullPolicy: 'if-not-present' }, undefined, image);
    const spec = makeSpec(owner);
    const err = await rejectionOf(backend.start(spec, sig()));
    expect(err).toMatchObject({ code: 'DOCKER_PULL_FAILED' });
    expect(err.message).toContain(`"${image}"`);
    expect(err.message).toContain('registry unreachable');
    await expectNothingCreated(owner, spec.name);
  });

  it('if-not-present + image present: no pull', async () => {
    const p = await proxy();
    const owner = makeOwner();
    const backend = backends.make(owner, { host: p.host, pullPolicy: 'if-not-present' });
    await backend.start(makeSpec(owner), sig());
    expect(p.requests.filter(isPull)).toEqual([]);
  });

  it('always: one pull per host and image for all scale sets, with registry auth in the header only', async () => {
    const p = await proxy();
    p.intercept = (r) =>
      isPull(r) ? { status: 200, body: '{"status":"Downloaded newer image"}\n' } : undefined;
    const password = new Secret(`pw-${randomBytes(12).toString('hex')}`);
    const registryAuth = { username: 'bot', password, serverAddress: 'registry.example:5000' };
    const cfg = { host: p.host, pullPolicy: 'always' as const, registryAuth };
    const [a, b] = [backends.make(makeOwner('a'), cfg), backends.make(makeOwner('b'), cfg)];
    await Promise.all([a.prepare(sig()), b.prepare(sig())]);

    const pulls = p.requests.filter(isPull);
    expect(pulls).toHaveLength(1);
    const url = new URL(pulls[0]?.url ?? '', 'http://x');
    expect(url.searchParams.get('fromImage')).toBe(FAKE_IMAGE.split(':')[0]);
    expect(url.searchParams.get('tag')).toBe('test');
    expect(pulls[0]?.url).not.toContain(password.reveal());
    const header = String(pulls[0]?.headers['x-registry-auth']);
    expect(JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))).toEqual({
      username: 'bot',
      password: password.reveal(),
      serveraddress: 'registry.example:5000',
    });
  });

  it('always + failing pull + image present: warns and starts from the local copy', async () => {
    const p = await proxy();
    p.intercept = (r) => (isPull(r) ? { status: 500, body: '{"message":"registry down"}' } : undefined);
    const owner = makeOwner();
    const log = memoryLogger();
    const backend = backends.make(owner, { host: p.host, pullPolicy: 'always' }, log.logger);
    const handle = await backend.start(makeSpec(owner), sig());
    expect(handle.resourceId).toMatch(/^[0-9a-f]{64}$/);
    const warn = log.lines().find((l) => l.level === 'warn');
    expect(warn).toMatchObject({
      image: FAKE_IMAGE,
      msg: 'image pull failed; using the copy already on the engine',
    });
    expect(String(warn?.err)).toContain('registry down');
  });

  it('always: later starts refresh the image in the background; a failed refresh only warns', async () => {
    const p = await proxy();
    let pulls = 0;
    p.intercept = (r) => {
      if (!isPull(r)) return undefined;
      pulls++;
      return pulls === 1
        ? { status: 200, body: '{"status":"Image is up to date"}\n' }
        : { status: 500, body: '{"message":"registry down"}' };
    };
    const owner = makeOwner();
    const log = memoryLogger();
    // Refresh age 0: every start after a settled pull refreshes (the default is five minutes).
    const backend = backends.make(owner, { host: p.host, pullPolicy: 'always' }, log.logger, undefined, {
      imageRefreshMs: 0,
    });
    const first = await backend.start(makeSpec(owner), sig());
    const refreshFailed = () =>
      log.lines().filter((l) => l.msg === 'image refresh failed; starts keep using the copy on the engine');
    await pollUntil(() => refreshFailed().length === 1, {
      timeout: 10_000,
      what: 'the first refresh failing',
    });
    const second = await backend.start(makeSpec(owner), sig());
    await pollUntil(() => refreshFailed().length === 2, {
      timeout: 10_000,
      what: 'the second refresh failing',
    });
    // One pull before the first start, one refresh per start; both runners started from the local copy.
    expect(pulls).toBe(3);
    expect(first.resourceId).not.toBe(second.resourceId);
    expect(String(refreshFailed()[0]?.err)).toContain('registry down');
  });
});
