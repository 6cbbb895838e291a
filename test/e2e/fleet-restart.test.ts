import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE } from '../setup/docker.js';
import type { FleetEngine } from '../support/engines/fleet.js';
import { useEngineFleet } from '../support/engines/use-fleet.js';
import { containerNames, type E2eEnv, SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';
import { hostsToml, onEngine, runningOn } from './support/fleet-hosts.js';

/**
 * `runner run` on two engines of the test's own (engine-0 on a unix socket, engine-1 over tcp:// with
 * mutual TLS) killed with -9 while runners are busy on both, then started again (issue 15: "a daemon
 * restart adopts busy runners on all hosts").
 */
const setup = useE2e();
const fleetOf = useEngineFleet({ engines: 2, ssh: false, images: [FAKE_IMAGE] });

/**
 * Every create/kill/die/destroy of our containers on the engines, from their event streams: the peak
 * of live containers over all of them, and which containers died, seen however briefly they lived.
 */
class FleetWatch {
  readonly died = new Set<string>();
  readonly killed = new Set<string>();
  created = 0;
  live = 0;
  peak = 0;
  readonly #streams: Readable[] = [];

  async watch(env: E2eEnv, e: FleetEngine): Promise<void> {
    const stream = (await e.engine.docker.getEvents({
      filters: { type: ['container'], event: ['create', 'kill', 'die', 'destroy'], label: env.labelFilter },
    })) as Readable;
    this.#streams.push(stream);
    // A killed engine's stream ends with an error; the assertions see what is missing.
    stream.on('error', () => {});
    createInterface({ input: stream }).on('line', (line) => {
      if (!line.trim()) return;
      const ev = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
      const name = ev.Actor?.Attributes?.name ?? '';
      if (ev.Action === 'create') {
        this.created++;
        this.peak = Math.max(this.peak, ++this.live);
      }
      if (ev.Action === 'destroy') this.live--;
      if (ev.Action === 'die') this.died.add(name);
      if (ev.Action === 'kill') this.killed.add(name);
    });
  }

  stop(): void {
    for (const s of this.#streams) s.destroy();
  }
}

describe('runner run on a fleet of two engines: kill -9 of the daemon', () => {
  it('a restart adopts the busy runners on both hosts: none killed, the slots counted, every job succeeds, nothing left anywhere', async () => {
    const engines = fleetOf().engines as [FleetEngine, FleetEngine];
    const env = await setup({ maxRunners: 4, gate: true, docker: hostsToml(engines) });
    env.onCleanup(async () => {
      for (const e of engines) {
        for (const c of await onEngine(env, e))
          await e.engine.docker.getContainer(c.Id).remove({ force: true });
      }
    });
    const watch = new FleetWatch();
    env.onCleanup(() => watch.stop());
    for (const e of engines) await watch.watch(env, e);

    const first = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 30_000 });
    // Six gated jobs for four slots: two wait in the queue through the crash and the restart, so a
    // restarted daemon that did not count the adopted runners would start more than four.
    for (let i = 0; i < 6; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    const busy = await env.fake.waitFor(
      () => {
        const started = env.fake.jobs().filter((j) => j.state === 'started');
        return started.length === 4 ? started.map((j) => j.runnerName ?? '').sort() : undefined;
      },
      { what: 'four jobs running (max-runners 4)', timeout: 60_000 },
    );
    const before = await runningOn(env, engines, 4);
    expect(before.map((cs) => cs.length)).toEqual([2, 2]);
    const ids = before.flat().map((c) => c.Id);

    const [stale] = env.fake.sessions();
    first.signal('SIGKILL');
    expect(await first.waitForExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });

    const second = await env.startDaemon();
    const adopted = await second.waitForLog((l) => l.json?.msg === 'adopted runners of a previous run', {
      what: 'adoption of the previous run’s runners',
      timeout: 60_000,
    });
    expect(adopted.json?.adopted).toBe(4);
    await env.fake.waitFor(() => env.fake.sessions().some((s) => s.sessionId !== stale?.sessionId), {
      what: 'new session after the stale one expired',
      timeout: 30_000,
    });
    // The adopted runners hold their slots, on each host's book and in the scale set, once the new
    // daemon knows of all six jobs (the two queued ones included) and has acted on them.
    const status = await pollUntil(
      async () => {
        const s = await env.status();
        const set = s.scaleSets[0];
        return s.hosts?.every((h) => h.state === 'up') &&
          set?.statistics?.totalAssignedJobs === 6 &&
          set.desiredRunners === 4 &&
          set.runnerCounts.creating === 0
          ? s
          : undefined;
      },
      { timeout: 30_000, interval: 200, what: 'both hosts up and the six jobs known after the restart' },
    );
    expect(status.scaleSets[0]?.counters.adopted).toBe(4);
    expect(status.hosts?.map((h) => [h.name, h.used.count])).toEqual([
      ['engine-0', 2],
      ['engine-1', 2],
    ]);
    expect(status.scaleSets[0]?.runners).toHaveLength(4);
    // The busy jobs are still the ones running, in the same containers: adoption killed nothing.
    expect(
      env.fake
        .jobs()
        .filter((j) => j.state === 'started')
        .map((j) => j.runnerName)
        .sort(),
    ).toEqual(busy);
    const after = (await Promise.all(engines.map((e) => onEngine(env, e, true)))).flat();
    expect(after.map((c) => c.Id).sort()).toEqual([...ids].sort());
    expect([...watch.died, ...watch.killed]).toEqual([]);
    expect(watch.created).toBe(4);

    await env.openGate();
    await env.fake.waitFor(
      () => env.fake.jobs().length === 6 && env.fake.jobs().every((j) => j.state === 'completed'),
      { what: 'six jobs completed', timeout: 90_000 },
    );
    expect(env.fake.jobs().map((j) => j.result)).toEqual(Array(6).fill('succeeded'));
    // The two queued jobs ran on runners the second daemon started, never more than four at once.
    const later = env.fake.jobs().filter((j) => !busy.includes(j.runnerName ?? ''));
    expect(later).toHaveLength(2);
    expect(watch.peak).toBeLessThanOrEqual(4);
    // Six runners in all: the four adopted and the two that took the queued jobs, none came and went.
    expect(watch.created).toBe(6);

    await pollUntil(
      async () => (await Promise.all(engines.map((e) => onEngine(env, e)))).every((cs) => cs.length === 0),
      { timeout: 60_000, interval: 250, what: 'no container of ours on either engine' },
    );
    await env.fake.waitFor(() => env.fake.runners().length === 0, {
      what: 'no registration left',
      timeout: 60_000,
    });
    expect(containerNames(before.flat())).toEqual(busy);
    await stopGracefully(second);
    await env.expectNothingLeft({ sessions: true });
    for (const e of engines) expect(await onEngine(env, e)).toEqual([]);
  }, 300_000);
});
