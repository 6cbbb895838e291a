import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HostLedger } from '../../backends/docker/fleet/budget.js';
import type { DockerHostConfig } from '../../backends/docker/hosts-config.js';
import type { DockerBackend } from '../../backends/docker/index.js';
import { dockerChecks } from '../../backends/docker/validate.js';
import { BackendCapacityError, type Owner, type RunnerExitedEvent } from '../../backends/types.js';
import { LABEL_INSTANCE } from '../../src/labels.js';
import type { Logger } from '../../src/log.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE, useDocker } from '../setup/docker.js';
import type { EngineFleet, FleetEngine } from '../support/engines/fleet.js';
import { useEngineFleet } from '../support/engines/use-fleet.js';
import { describeBackendConformance, makeOwner, makeSpec } from './conformance.js';
import {
  commandFor,
  type DockerOverrides,
  dockerConfig,
  FAST_HEALTH,
  type FixtureExtras,
  makeDockerBackend,
  memoryLogger,
  rejectionOf,
} from './docker-fixtures.js';

/**
 * One scale set on several real Docker engines (issue 15): three private dockerd of the test's own
 * (test/support/engines), engine-0 on a unix socket, engine-1 over tcp:// with mutual TLS, engine-2
 * over ssh://. One fleet for the whole file.
 */
useDocker();
const fleetOf = useEngineFleet({ images: [FAKE_IMAGE] });

// The ssh:// transport logs in with the agent at SSH_AUTH_SOCK, read when a host's client is made.
beforeAll(() => {
  vi.stubEnv('SSH_AUTH_SOCK', fleetOf().sshAuthSock);
});
afterAll(() => {
  vi.unstubAllEnvs();
});

/** A `[[docker.hosts]]` entry for an engine of the fleet (its right TLS files for the TLS one). */
function hostOf(e: FleetEngine, budget: Partial<DockerHostConfig> = {}): DockerHostConfig {
  const tls = e.tls ? { tlsCa: e.tls.ca, tlsCert: e.tls.cert, tlsKey: e.tls.key } : {};
  return { name: e.name, url: e.url, ...tls, ...budget };
}

/** The containers of `owner`'s instance on `e`, asked through the engine's own socket. */
async function containersOn(e: FleetEngine, instanceId: string) {
  return e.engine.docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_INSTANCE}=${instanceId}`] },
  });
}

/** Removes what an instance left on every engine of the fleet, without going through a backend. */
async function removeFromFleet(fleet: EngineFleet, instanceId: string): Promise<void> {
  await Promise.all(
    fleet.engines.map(async (e) => {
      if (!e.engine.running) return;
      for (const c of await containersOn(e, instanceId)) {
        await e.engine.docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => {});
      }
    }),
  );
}

function makeFleetBackend(
  owner: Owner,
  docker: DockerOverrides,
  extras: FixtureExtras = {},
  logger?: Logger,
): { backend: DockerBackend; cleanup: () => Promise<void> } {
  const made = makeDockerBackend(
    owner,
    // Each engine's own bridge, not the host network.
    { network: '', ...docker },
    logger,
    FAKE_IMAGE,
    // ssh:// makes a connection per call: a ping deadline that allows for it on a loaded machine.
    { health: { ...FAST_HEALTH, timeoutMs: 10_000 }, ...extras },
  );
  return { backend: made.backend, cleanup: () => removeFromFleet(fleetOf(), owner.instanceId) };
}

describeBackendConformance('docker on two hosts (unix + mutual TLS)', async ({ owner, behaviour }) => {
  const [unix, tls] = fleetOf().engines;
  return makeFleetBackend(owner, {
    hosts: [hostOf(unix as FleetEngine), hostOf(tls as FleetEngine)],
    command: commandFor(behaviour),
  });
});

describe('docker backend over a fleet of engines', () => {
  const made: { backend: DockerBackend; cleanup: () => Promise<void> }[] = [];
  const sig = () => AbortSignal.timeout(60_000);
  const engines = () => fleetOf().engines as [FleetEngine, FleetEngine, FleetEngine];

  afterEach(async () => {
    // An engine a test stopped or froze comes back for the next one (and for the fleet's own stop).
    for (const e of fleetOf().engines) {
      if (!e.engine.running) await e.engine.revive();
      else e.engine.thaw();
    }
    for (const m of made.splice(0).reverse()) {
      await m.backend.close({ signal: sig() }).catch(() => {});
      await m.cleanup();
    }
  });

  function backendFor(
    owner: Owner,
    docker: DockerOverrides,
    logger?: Logger,
    extras: FixtureExtras = {},
  ): DockerBackend {
    // A budget book of the test's own: another test's budgets for the same urls must not stand.
    const m = makeFleetBackend(owner, docker, { ledger: new HostLedger(), ...extras }, logger);
    made.push(m);
    return m.backend;
  }

  it('a burst spreads by budget over three engines (unix, TLS, ssh) and never exceeds a host', async () => {
    const [unix, tls, ssh] = engines();
    const owner = makeOwner();
    const backend = backendFor(owner, {
      cpus: 0.5,
      hosts: [hostOf(unix, { cpus: 1.5 }), hostOf(tls, { maxRunners: 2 }), hostOf(ssh, { maxRunners: 1 })],
    });
    await backend.prepare(sig());
    // prepare() returns once one host is ready; this test is about budgets, so all of them first.
    await pollUntil(() => backend.hosts().every((h) => h.ready), {
      timeout: 60_000,
      what: 'all hosts ready',
    });
    const specs = Array.from({ length: 8 }, () => makeSpec(owner));
    const outcomes = await Promise.all(
      specs.map((s) =>
        backend.start(s, sig()).then(
          (h) => h.host,
          (err: unknown) => err,
        ),
      ),
    );
    const placed = outcomes.filter((o): o is string => typeof o === 'string');
    const refused = outcomes.filter((o) => typeof o !== 'string');
    expect(placed.sort()).toEqual(['engine-0', 'engine-0', 'engine-0', 'engine-1', 'engine-1', 'engine-2']);
    expect(refused).toHaveLength(2);
    for (const err of refused) {
      expect(err).toBeInstanceOf(BackendCapacityError);
      expect((err as Error).message).toBe(
        'no Docker host can take a runner now: engine-0: cpus full (1.5 CPUs of 1.5 CPUs in use, 0.5 CPUs needed); engine-1: count full (2 of 2 in use, 1 needed); engine-2: count full (1 of 1 in use, 1 needed)',
      );
    }
    // What each engine holds, asked of the engine itself: its cap, and every runner with its limit.
    const counts = await Promise.all([unix, tls, ssh].map((e) => containersOn(e, owner.instanceId)));
    expect(counts.map((c) => c.length)).toEqual([3, 2, 1]);
    const limits = await Promise.all(
      counts[0]?.map(
        async (c) => (await unix.engine.docker.getContainer(c.Id).inspect()).HostConfig.NanoCpus,
      ) ?? [],
    );
    expect(limits).toEqual([500_000_000, 500_000_000, 500_000_000]);
    // Every runner is listed with its host; the snapshot counts them against each budget.
    const listed = await backend.listOwned(sig());
    expect(listed.map((r) => r.host).sort()).toEqual(placed);
    expect(backend.hosts().map((h) => [h.name, h.state, h.ready, h.used.count])).toEqual([
      ['engine-0', 'up', true, 3],
      ['engine-1', 'up', true, 2],
      ['engine-2', 'up', true, 1],
    ]);
    expect(backend.hosts()[0]?.used.cpus).toBe(1.5);
  });

  it('kill -9 of one engine mid-burst: the other keeps taking runners, its runners are reported exited and replaced, nothing is left once it is back', async () => {
    const [unix, tls] = engines();
    const owner = makeOwner();
    const log = memoryLogger();
    const backend = backendFor(owner, { hosts: [hostOf(unix), hostOf(tls)] }, log.logger);
    await backend.prepare(sig());
    const ac = new AbortController();
    const exits: RunnerExitedEvent[] = [];
    const watching = (async () => {
      for await (const e of backend.events(AbortSignal.any([ac.signal, sig()]))) exits.push(e);
    })();
    // What the scaler does: a failed start and an exited runner are removed (the backend owes the
    // removal of a runner on a host that is down).
    const scalerRemove = async (name: string) => {
      // Retried as the scaler retries a removal that failed (the engine may not be known down yet).
      await pollUntil(
        () =>
          backend.remove(name, sig()).then(
            () => true,
            () => false,
          ),
        { timeout: 30_000, interval: 200, what: `removal of ${name}` },
      );
    };

    const first = await Promise.all(Array.from({ length: 4 }, () => backend.start(makeSpec(owner), sig())));
    expect(first.map((h) => h.host).sort()).toEqual(['engine-0', 'engine-0', 'engine-1', 'engine-1']);
    // The rest of the burst is under way when the TLS engine's machine dies.
    const burst = Array.from({ length: 4 }, () => makeSpec(owner));
    const inFlight = burst.map((s) =>
      backend.start(s, sig()).then(
        (h) => ({ name: s.name, host: h.host }),
        async () => {
          await scalerRemove(s.name);
          return { name: s.name, host: undefined };
        },
      ),
    );
    await tls.engine.kill();
    const later = await Promise.all(inFlight);
    const onTls = [...first, ...later].filter((h) => h.host === 'engine-1').map((h) => h.name);

    // Each runner that was on the dead engine is reported exited, naming it.
    const lost = await pollUntil(
      () => {
        const reported = exits.filter((e) => onTls.includes(e.name));
        return reported.length === onTls.length ? reported : undefined;
      },
      { timeout: 30_000, what: 'the runners of the dead engine reported exited' },
    );
    for (const e of lost) expect(e.reason).toMatch(/^host "engine-1" is down/);
    expect(backend.hosts()[1]).toMatchObject({ name: 'engine-1', state: 'down', ready: false });
    // A host known down does not make the backend look stalled while the other answers.
    expect(backend.silence()).toBeUndefined();
    for (const e of lost) await scalerRemove(e.name);

    // Replacements go to the engine that answers, which keeps reporting its own exits meanwhile.
    const replacements = await Promise.all(lost.map(() => backend.start(makeSpec(owner), sig())));
    expect(replacements.map((h) => h.host)).toEqual(lost.map(() => 'engine-0'));
    const victim = replacements[0];
    if (!victim) throw new Error('no runner was lost');
    await unix.engine.docker.getContainer(victim.resourceId).kill();
    const killed = await pollUntil(() => exits.find((e) => e.name === victim.name), {
      timeout: 30_000,
      what: 'an exit on the live engine during the outage',
    });
    expect(killed).toMatchObject({ exitCode: 137 });
    expect(killed.reason).toBeUndefined();
    // The dead engine is left out of listings, not failing them.
    const listed = await backend.listOwned(sig());
    expect(listed.every((r) => r.host === 'engine-0')).toBe(true);

    // It comes back: the runners it lost (exited with the machine) are removed, and it takes runners again.
    await tls.engine.revive();
    await pollUntil(() => backend.hosts()[1]?.ready, { timeout: 60_000, what: 'engine-1 ready again' });
    await pollUntil(
      async () =>
        (await containersOn(tls, owner.instanceId)).length === 0 && backend.hosts()[1]?.used.count === 0,
      { timeout: 30_000, what: 'nothing of ours left on engine-1, nor counted there' },
    );
    expect(
      log
        .lines()
        .some(
          (l) => l.msg === 'docker host answers again: reconciling its runners, then it takes runners again',
        ),
    ).toBe(true);

    ac.abort();
    await watching;
    await backend.close({ removeAll: true, signal: sig() });
    for (const e of [unix, tls]) expect(await containersOn(e, owner.instanceId)).toEqual([]);
  });

  it('close() right after a host came back removes the runners owed there, whose reconcile it would cut short; one still down is named, and close does not wait for it', async () => {
    const [unix, tls] = engines();
    const owner = makeOwner();
    // Down at the first missed ping, then not pinged again for a minute: the monitor does not see the
    // host return before close(), whose settling is all that can remove what is owed there.
    const health = { ...FAST_HEALTH, downAfter: 1, retry: { initial: 60_000, max: 60_000 } };
    const backend = backendFor(owner, { hosts: [hostOf(unix), hostOf(tls)] }, undefined, { health });
    const handles = await Promise.all([
      backend.start(makeSpec(owner), sig()),
      backend.start(makeSpec(owner), sig()),
    ]);
    const lost = handles.find((h) => h.host === 'engine-1');
    const kept = handles.find((h) => h.host === 'engine-0');
    if (!lost || !kept) throw new Error(`expected one runner per host, got ${JSON.stringify(handles)}`);
    const ac = new AbortController();
    const exits: RunnerExitedEvent[] = [];
    const watching = (async () => {
      for await (const e of backend.events(AbortSignal.any([ac.signal, sig()]))) exits.push(e);
    })();

    // The machine dies with the runner; the scaler removes it, which the backend owes.
    await tls.engine.kill();
    await pollUntil(() => exits.find((e) => e.name === lost.name), {
      timeout: 30_000,
      what: 'the runner of the dead engine reported exited',
    });
    expect(backend.hosts()[1]?.state).toBe('down');
    await backend.remove(lost.name, sig());
    // No subscription from here on: its reconnects would make the monitor look at once.
    ac.abort();
    await watching;

    // It returns (its container now exited, 255) and the process stops at once: a graceful close,
    // which keeps live runners, still settles what it owes there.
    await tls.engine.revive();
    expect((await containersOn(tls, owner.instanceId)).map((c) => c.State)).toEqual(['exited']);
    await backend.close({ signal: sig() });
    expect(await containersOn(tls, owner.instanceId)).toEqual([]);
    expect((await containersOn(unix, owner.instanceId)).map((c) => c.Id)).toEqual([kept.resourceId]);

    // The same with the host still down: the debt is named, and close ends at once.
    const owner2 = makeOwner();
    const log2 = memoryLogger();
    const backend2 = backendFor(owner2, { hosts: [hostOf(unix), hostOf(tls)] }, log2.logger, { health });
    const pair = await Promise.all([
      backend2.start(makeSpec(owner2), sig()),
      backend2.start(makeSpec(owner2), sig()),
    ]);
    const stranded = pair.find((h) => h.host === 'engine-1');
    if (!stranded) throw new Error(`expected a runner on engine-1, got ${JSON.stringify(pair)}`);
    const ac2 = new AbortController();
    const watching2 = (async () => {
      for await (const e of backend2.events(AbortSignal.any([ac2.signal, sig()])))
        if (e.name === stranded.name) ac2.abort();
    })();
    await tls.engine.kill();
    await watching2;
    expect(backend2.hosts()[1]?.state).toBe('down');
    await backend2.remove(stranded.name, sig());
    await backend2.close({ signal: sig() });
    expect(log2.lines()).toContainEqual(
      expect.objectContaining({
        msg: 'runner containers of a host that was down are not removed at close; the next start removes them',
        runners: 1,
        host: 'engine-1',
      }),
    );
  });

  it('a host that stops answering without dying: its runners are reported exited, and once it answers those still running are listed again (to be adopted), not killed', async () => {
    const [unix, tls] = engines();
    const owner = makeOwner();
    const backend = backendFor(owner, { hosts: [hostOf(unix), hostOf(tls)] }, undefined, {
      health: { ...FAST_HEALTH, timeoutMs: 1_000 },
    });
    const handles = await Promise.all([
      backend.start(makeSpec(owner), sig()),
      backend.start(makeSpec(owner), sig()),
    ]);
    const stranded = handles.find((h) => h.host === 'engine-0');
    const other = handles.find((h) => h.host === 'engine-1');
    if (!stranded || !other) throw new Error(`expected one runner per host, got ${JSON.stringify(handles)}`);
    const ac = new AbortController();
    const exits: RunnerExitedEvent[] = [];
    const watching = (async () => {
      for await (const e of backend.events(AbortSignal.any([ac.signal, sig()]))) exits.push(e);
    })();

    // A hung machine: connections are accepted and never answered; its containers go on running.
    unix.engine.freeze();
    const reported = await pollUntil(() => exits.find((e) => e.name === stranded.name), {
      timeout: 30_000,
      what: 'the runner of the hung host reported exited',
    });
    expect(reported.reason).toMatch(
      /^host "engine-0" is down \(no answer from the Docker engine within 1s\)/,
    );
    // The scaler removes it: owed, so the call does not wait for the host.
    await backend.remove(stranded.name, sig());
    expect((await backend.listOwned(sig())).map((r) => r.name)).toEqual([other.name]);
    expect(backend.hosts()[0]).toMatchObject({ state: 'down', used: { count: 1 } });

    unix.engine.thaw();
    await pollUntil(() => backend.hosts()[0]?.ready, { timeout: 30_000, what: 'engine-0 ready again' });
    // Still running, so still there, and listed again for the scaler to adopt; still counted.
    const info = await unix.engine.docker.getContainer(stranded.resourceId).inspect();
    expect(info.State.Running).toBe(true);
    const listed = await backend.listOwned(sig());
    expect(listed.find((r) => r.name === stranded.name)).toMatchObject({
      state: 'running',
      host: 'engine-0',
    });
    expect(backend.hosts()[0]?.used.count).toBe(1);
    // The adopted runner is removed like any other when the scaler is done with it.
    await backend.remove(stranded.name, sig());
    expect(await containersOn(unix, owner.instanceId)).toEqual([]);
    expect(backend.hosts()[0]?.used.count).toBe(0);
    ac.abort();
    await watching;
  });

  it('a host that does not answer at start is a warning naming it; it joins when it answers and takes runners', async () => {
    const [unix, tls] = engines();
    await unix.engine.kill();
    const owner = makeOwner();
    const log = memoryLogger();
    const backend = backendFor(
      owner,
      { hosts: [hostOf(unix, { maxRunners: 4 }), hostOf(tls, { maxRunners: 4 })] },
      log.logger,
    );
    await backend.prepare(sig());
    expect(
      log.lines().find((l) => l.msg === 'docker host not answering; it joins when it answers'),
    ).toMatchObject({
      level: 'warn',
      host: 'engine-0',
      url: unix.url,
    });
    const early = await Promise.all([
      backend.start(makeSpec(owner), sig()),
      backend.start(makeSpec(owner), sig()),
    ]);
    expect(early.map((h) => h.host)).toEqual(['engine-1', 'engine-1']);

    await unix.engine.revive();
    await pollUntil(() => backend.hosts()[0]?.ready, { timeout: 60_000, what: 'engine-0 joined and ready' });
    expect(log.lines().some((l) => l.msg === 'docker host joined' && l.host === 'engine-0')).toBe(true);
    // The freest host now is the one that joined.
    expect((await backend.start(makeSpec(owner), sig())).host).toBe('engine-0');
  });

  it('a wrong TLS client certificate is an error naming the key and the file, at start, in the log and in validate', async () => {
    const [unix, tls] = engines();
    const wrong = fleetOf().pki.wrongClient;
    const bad: DockerHostConfig = {
      name: tls.name,
      url: tls.url,
      tlsCa: wrong.ca,
      tlsCert: wrong.cert,
      tlsKey: wrong.key,
    };
    const expected = `[[docker.hosts]] "engine-1" (${tls.url}): the engine refused the client certificate in tls-cert (${JSON.stringify(wrong.cert)}): tls-cert and its key must be issued by the CA the engine trusts (dockerd --tlscacert) (ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE)`;

    // Its only host: the start-up fails with it.
    const alone = backendFor(makeOwner(), { hosts: [bad] });
    const err = await rejectionOf(alone.prepare(sig()));
    expect(err).toMatchObject({ code: 'DOCKER_TLS', message: expected });

    // One of two: the other takes the runners, the log says what to fix.
    const owner = makeOwner();
    const log = memoryLogger();
    const pair = backendFor(owner, { hosts: [hostOf(unix), bad] }, log.logger);
    await pair.prepare(sig());
    expect(log.lines().find((l) => l.level === 'error')).toMatchObject({
      msg: 'docker host cannot be used until this is fixed; retried meanwhile',
      host: 'engine-1',
      err: expected,
    });
    expect((await pair.start(makeSpec(owner), sig())).host).toBe('engine-0');
    expect(pair.hosts()[1]).toMatchObject({ state: 'joining', ready: false, error: expected });

    const rows = await dockerChecks(
      {
        scaleSet: 'linux',
        runnerImage: FAKE_IMAGE,
        config: { ...dockerConfig({ pullPolicy: 'never', network: '' }), hosts: [hostOf(unix), bad] },
      },
      { timeoutMs: 20_000, env: process.env },
    );
    expect(rows.map((r) => [r.id, r.title, r.status])).toEqual([
      ['docker-engine', `Docker engine reachable: host engine-0 (${unix.url})`, 'ok'],
      ['runner-image', `runner image ${FAKE_IMAGE} available on host engine-0 (pull-policy never)`, 'ok'],
      ['docker-engine', `Docker engine reachable: host engine-1 (${tls.url})`, 'fail'],
      ['runner-image', `runner image ${FAKE_IMAGE} available on host engine-1 (pull-policy never)`, 'skip'],
    ]);
    expect(rows[2]?.detail).toBe(expected);
  });
});
