import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { GONE_REASON, OOM_REASON } from '../../backends/docker/exit-tracker.js';
import type { RunnerEvent, RunnerExitedEvent } from '../../backends/types.js';
import { anySignal } from '../../src/kernel/abort.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE, testDocker, useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { exitOf, makeOwner, makeSpec } from './conformance.js';
import { useBackends } from './docker-fixtures.js';

useDocker();

/** Exits for all of `names`, in arrival order; fails when the stream ends first. */
async function exitsOf(events: AsyncIterable<RunnerEvent>, names: string[]): Promise<RunnerExitedEvent[]> {
  const want = new Set(names);
  const got: RunnerExitedEvent[] = [];
  for await (const e of events) {
    if (!want.delete(e.name)) continue;
    got.push(e);
    if (want.size === 0) return got;
  }
  throw new Error(`event stream ended before ${[...want].join(', ')} exited`);
}

describe('docker exit events', () => {
  const backends = useBackends();
  const deadline = () => AbortSignal.timeout(30_000);

  async function proxied() {
    const proxy = await DockerProxy.start();
    backends.defer(() => proxy.close());
    const owner = makeOwner();
    return { proxy, owner, backend: backends.make(owner, { host: proxy.host }) };
  }

  /** Resolves once the watch has (re)connected `n` times and taken its listing after the n-th connect. */
  const connected = (proxy: DockerProxy, n: number) =>
    pollUntil(
      () =>
        proxy.requestsTo('GET', '/events').length >= n &&
        proxy.requestsTo('GET', '/containers/json').length >= n,
      { timeout: 15_000, what: `event stream connection #${n} and its listing` },
    );

  it('reopens a broken event stream and still reports later exits', async () => {
    const { proxy, owner, backend } = await proxied();
    const spec = makeSpec(owner);
    const handle = await backend.start(spec, deadline());
    const ac = new AbortController();
    const exited = exitOf(backend.events(anySignal(ac.signal, deadline())), spec.name);
    await connected(proxy, 1);

    proxy.breakConnections();
    await connected(proxy, 2);
    await testDocker.getContainer(handle.resourceId).kill();

    const e = await exited;
    ac.abort();
    expect(e).toMatchObject({ name: spec.name, resourceId: handle.resourceId, exitCode: 137 });
    expect(e.reason).toBeUndefined();
  });

  it('after an engine outage reports runners that died or vanished meanwhile', async () => {
    const { proxy, owner, backend } = await proxied();
    const [killed, removed] = [makeSpec(owner), makeSpec(owner)];
    const hk = await backend.start(killed, deadline());
    const hr = await backend.start(removed, deadline());
    const ac = new AbortController();
    const exits = exitsOf(backend.events(anySignal(ac.signal, deadline())), [killed.name, removed.name]);
    await connected(proxy, 1);

    proxy.down();
    await testDocker.getContainer(hk.resourceId).kill();
    await testDocker.getContainer(hr.resourceId).remove({ force: true });
    // The watch keeps trying while the engine is away, and must not give up.
    await pollUntil(() => proxy.refused >= 2, { timeout: 10_000, what: 'reconnect attempts while down' });
    proxy.up();

    const got = Object.fromEntries((await exits).map((e) => [e.name, e]));
    ac.abort();
    expect(got[killed.name]).toMatchObject({ resourceId: hk.resourceId, exitCode: 137 });
    expect(got[removed.name]).toMatchObject({ resourceId: hr.resourceId, reason: GONE_REASON });
  });

  it("reports each exit once, and never another owner's", async () => {
    const mine = makeOwner('shared');
    const theirs = makeOwner('shared');
    const [a, b] = [
      backends.make(mine, { command: ['sh', '-c', 'sleep 1; exit 4'] }),
      backends.make(theirs, { command: ['sh', '-c', 'exit 5'] }),
    ];
    const [sa, sb] = [makeSpec(mine), makeSpec(theirs)];
    const ac = new AbortController();
    const seen: RunnerExitedEvent[] = [];
    const watch = (async () => {
      for await (const e of a.events(anySignal(ac.signal, deadline()))) seen.push(e);
    })();
    await b.start(sb, deadline());
    await a.start(sa, deadline());
    await pollUntil(() => seen.some((e) => e.name === sa.name), { timeout: 15_000, what: `${sa.name} exit` });
    // The other owner's runner died first; a leak through the label filter would be in `seen` by now.
    // A second runner's exit proves the stream is still delivering after the first.
    const second = makeSpec(mine);
    await a.start(second, deadline());
    await pollUntil(() => seen.some((e) => e.name === second.name), { timeout: 15_000, what: 'second exit' });
    ac.abort();
    await watch;
    expect(seen.map((e) => [e.name, e.exitCode])).toEqual([
      [sa.name, 4],
      [second.name, 4],
    ]);
  });

  it('a runner the kernel killed over its memory limit exits with the OOMKilled reason', async () => {
    // The runner image with an entrypoint that outgrows a 16 MiB limit (built from the local image, offline).
    const image = 'runner-fake-oom:test';
    const dockerfile = `FROM ${FAKE_IMAGE}\nENTRYPOINT ["sh", "-c", "a=$(head -c 200000000 /dev/zero | tr '\\\\0' a)"]\n`;
    await execa('docker', ['build', '-q', '-t', image, '-'], {
      input: dockerfile,
      env: { DOCKER_BUILDKIT: '0' },
    });
    const owner = makeOwner();
    const backend = backends.make(owner, { memory: 16 * 1024 * 1024 }, undefined, image);
    const spec = makeSpec(owner);
    const ac = new AbortController();
    const exited = exitOf(backend.events(anySignal(ac.signal, deadline())), spec.name);
    await backend.start(spec, deadline());
    const e = await exited;
    ac.abort();
    expect(e).toMatchObject({ name: spec.name, exitCode: 137, reason: OOM_REASON });
  });

  it('an out-of-memory exit that happened before anyone subscribed still carries OOMKilled', async () => {
    const image = 'runner-fake-oom:test';
    const dockerfile = `FROM ${FAKE_IMAGE}\nENTRYPOINT ["sh", "-c", "a=$(head -c 200000000 /dev/zero | tr '\\\\0' a)"]\n`;
    await execa('docker', ['build', '-q', '-t', image, '-'], {
      input: dockerfile,
      env: { DOCKER_BUILDKIT: '0' },
    });
    const owner = makeOwner();
    const backend = backends.make(owner, { memory: 16 * 1024 * 1024 }, undefined, image);
    const spec = makeSpec(owner);
    const handle = await backend.start(spec, deadline());
    // Dead before the stream connects: the exit comes from the listing, where no `oom` event is seen.
    // The engine records the exit and the kernel's OOM kill from two events of containerd, in either
    // order (seen here: "exited" while OOMKilled was still false), so both are waited for.
    await pollUntil(
      async () => {
        const { State } = await testDocker.getContainer(handle.resourceId).inspect();
        return State.Status === 'exited' && State.OOMKilled;
      },
      { timeout: 15_000, what: 'the engine to record the container as killed for its memory' },
    );
    const ac = new AbortController();
    const e = await exitOf(backend.events(anySignal(ac.signal, deadline())), spec.name);
    ac.abort();
    expect(e).toMatchObject({ name: spec.name, exitCode: 137, reason: OOM_REASON });
  });
});
