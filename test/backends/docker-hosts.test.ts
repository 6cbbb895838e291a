import { describe, expect, it } from 'vitest';
import { createDockerBackend } from '../../backends/docker/index.js';
import { BackendCapacityError } from '../../backends/types.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE, testDocker, useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { makeOwner, makeSpec } from './conformance.js';
import { dockerConfig, FAST_HEALTH, memoryLogger, rejectionOf, useBackends } from './docker-fixtures.js';

useDocker();

/**
 * One host with a budget and a health of its own, on the machine's engine behind a proxy (a socket of
 * its own is a host of its own in the process-wide budget book). Several hosts need several engines:
 * test/backends/docker-fleet.test.ts.
 */
describe('docker backend: one host, its budget and its health', () => {
  const backends = useBackends();
  const sig = () => AbortSignal.timeout(30_000);

  async function proxy() {
    const p = await DockerProxy.start();
    backends.defer(() => p.close());
    return p;
  }

  it('never places past the host budget: the next start is a capacity error naming the host, until one is removed', async () => {
    const p = await proxy();
    const owner = makeOwner();
    const backend = backends.make(
      owner,
      { hosts: [{ name: 'capped', url: p.host, maxRunners: 2 }] },
      undefined,
      undefined,
      { health: FAST_HEALTH },
    );
    expect(backend.capabilities.maxRunners).toBe(2);
    const [a, b, c] = [makeSpec(owner), makeSpec(owner), makeSpec(owner)];
    const ha = await backend.start(a, sig());
    expect(ha.host).toBe('capped');
    await backend.start(b, sig());
    const err = await rejectionOf(backend.start(c, sig()));
    expect(err).toBeInstanceOf(BackendCapacityError);
    expect(err.message).toBe(
      'no Docker host can take a runner now: capped: count full (2 of 2 in use, 1 needed)',
    );
    // Nothing was made for the refused start.
    expect((await backend.listOwned(sig())).map((r) => r.name).sort()).toEqual([a.name, b.name].sort());

    await backend.remove(a.name, sig());
    expect((await backend.start(c, sig())).host).toBe('capped');
    const [host] = backend.hosts();
    expect(host).toMatchObject({ name: 'capped', state: 'up', ready: true, runners: 2, ownRunners: 2 });
    expect(host?.used.count).toBe(2);
  });

  it('fills the budget the config leaves out from the engine, and refuses a runner bigger than the host', async () => {
    const p = await proxy();
    const info = await testDocker.info();
    const owner = makeOwner();
    const backend = backends.make(owner, { host: p.host, cpus: info.NCPU + 1 }, undefined, undefined, {
      health: FAST_HEALTH,
    });
    const err = await rejectionOf(backend.start(makeSpec(owner), sig()));
    expect(err.code).toBe('DOCKER_HOST_TOO_SMALL');
    const name = p.host.split('/').pop();
    expect(err.message).toBe(
      `no Docker host can ever take a runner of ${info.NCPU + 1} CPUs and no memory limit: ${name}: one runner needs ${info.NCPU + 1} CPUs, more than its whole cpus budget (${info.NCPU} CPUs); lower [docker] cpus/memory or raise the hosts' budgets`,
    );
    expect(backend.hosts()[0]?.budget).toEqual({
      count: 'unlimited',
      cpus: info.NCPU,
      memory: info.MemTotal,
    });
    expect(p.requestsTo('POST', '/containers/create')).toEqual([]);
  });

  it('the only host going away takes no runner and gives none up; when it answers again it takes runners again', async () => {
    const p = await proxy();
    const owner = makeOwner();
    const log = memoryLogger();
    const backend = backends.make(owner, { host: p.host }, log.logger, undefined, { health: FAST_HEALTH });
    const first = makeSpec(owner);
    const handle = await backend.start(first, sig());
    const ac = new AbortController();
    const events: string[] = [];
    const watching = (async () => {
      for await (const e of backend.events(AbortSignal.any([ac.signal, sig()]))) events.push(e.name);
    })();

    p.down();
    await pollUntil(() => backend.hosts()[0]?.state === 'down', {
      timeout: 10_000,
      what: 'the host marked down',
    });
    const refused = await rejectionOf(backend.start(makeSpec(owner), sig()));
    expect(refused).toBeInstanceOf(BackendCapacityError);
    expect(refused.message).toMatch(/: down$/);
    // With one host there is nowhere to refill a slot: its runner is not reported exited, and the
    // listing fails as it always did while the engine is away.
    await expect(backend.listOwned(sig())).rejects.toMatchObject({ code: 'DOCKER_API' });
    expect(
      log
        .lines()
        .find(
          (l) =>
            l.msg === 'docker host is down: no new runners until it answers; its runners are reconciled then',
        ),
    ).toMatchObject({ level: 'warn', host: p.host.split('/').pop() });

    p.up();
    await pollUntil(() => backend.hosts()[0]?.ready, {
      timeout: 10_000,
      what: 'the host taking runners again',
    });
    const second = await backend.start(makeSpec(owner), sig());
    const listed = await backend.listOwned(sig());
    expect(listed.map((r) => r.resourceId).sort()).toEqual([handle.resourceId, second.resourceId].sort());
    ac.abort();
    await watching;
    expect(events).toEqual([]);
  });

  it('for doctor, a listing asks every host and fails naming one that does not answer', async () => {
    const [up, down] = [await proxy(), await proxy()];
    down.down();
    const owner = makeOwner();
    const hosts = [
      { name: 'up', url: up.host },
      { name: 'away', url: down.host },
    ];
    const inventory = createDockerBackend(
      { owner, logger: memoryLogger().logger, stateDir: '/nonexistent' },
      { image: FAKE_IMAGE, docker: { ...dockerConfig(), hosts }, inventory: true },
    );
    backends.defer(() => inventory.close());
    const err = await rejectionOf(inventory.listOwned(sig()));
    expect(err.code).toBe('DOCKER_API');
    // The proxy accepts and drops the connection, as an engine going away does.
    expect(err.message).toMatch(
      /^listing runner containers on host "away": (socket hang up|read ECONNRESET|write EPIPE)$/,
    );
    // No health pings: doctor starts nothing.
    expect(up.requestsTo('GET', '/_ping')).toEqual([]);
  });

  it('a host that does not answer at start is a warning naming it, and prepare succeeds once it answers', async () => {
    const p = await proxy();
    p.down();
    const owner = makeOwner();
    const log = memoryLogger();
    const backend = backends.make(owner, { hosts: [{ name: 'late', url: p.host }] }, log.logger, undefined, {
      health: FAST_HEALTH,
    });
    const err = await rejectionOf(backend.prepare(sig()));
    expect(err.code).toBe('DOCKER_API');
    expect(err.message).toContain(`Docker engine ${p.host} not answering`);
    const warning = log.lines().find((l) => l.msg === 'docker host not answering; it joins when it answers');
    expect(warning).toMatchObject({ level: 'warn', host: 'late', url: p.host });

    p.up();
    await backend.prepare(sig());
    expect(backend.hosts()[0]).toMatchObject({ state: 'up', ready: true });
    expect(log.lines().some((l) => l.msg === 'docker host joined' && l.host === 'late')).toBe(true);
  });
});
