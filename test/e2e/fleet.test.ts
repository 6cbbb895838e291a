import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE } from '../setup/docker.js';
import type { FleetEngine } from '../support/engines/fleet.js';
import { useEngineFleet } from '../support/engines/use-fleet.js';
import { containerNames, SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';
import { hostsToml, onEngine, runningOn } from './support/fleet-hosts.js';

/**
 * `runner run` with one scale set on two Docker engines of the test's own (engine-0 on a unix
 * socket, engine-1 over tcp:// with mutual TLS), jobs from the fake Actions service (issue 15).
 */
const setup = useE2e();
const fleetOf = useEngineFleet({ engines: 2, ssh: false, images: [FAKE_IMAGE] });

describe('runner run on a fleet of two engines', () => {
  it('spreads a burst over both; kill -9 of one fails only its jobs, new jobs run on the other, and once it is back nothing is left anywhere', async () => {
    const [unix, tls] = fleetOf().engines as [FleetEngine, FleetEngine];
    const env = await setup({ maxRunners: 6, gate: true, docker: hostsToml([unix, tls]) });
    env.onCleanup(async () => {
      if (!tls.engine.running) await tls.engine.revive();
      for (const e of [unix, tls]) {
        for (const c of await onEngine(env, e))
          await e.engine.docker.getContainer(c.Id).remove({ force: true });
      }
    });
    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 30_000 });

    const started = () => env.fake.jobs().filter((j) => j.state === 'started');
    for (let i = 0; i < 6; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    await env.fake.waitFor(() => started().length === 6, { what: 'six jobs running', timeout: 60_000 });
    // Identical hosts without budgets: the burst is spread evenly.
    const [first = [], second = []] = await runningOn(env, [unix, tls], 6);
    expect([first.length, second.length]).toEqual([3, 3]);
    const doomed = new Set(containerNames(second));

    // The TLS engine's machine dies with its three jobs on it.
    await tls.engine.kill();
    await env.fake.waitFor(
      () =>
        env.fake
          .jobs()
          .filter((j) => doomed.has(j.runnerName ?? ''))
          .every((j) => j.result === 'failed') || undefined,
      { what: 'the jobs of the dead engine failed', timeout: 60_000 },
    );
    const down = await d.waitForLog((l) => String(l.json?.msg).startsWith('docker host is down'), {
      what: 'the host reported down',
      timeout: 30_000,
    });
    expect(down.json).toMatchObject({ level: 'warn', host: 'engine-1' });

    // Jobs keep flowing: three more run on the engine that answers.
    for (let i = 0; i < 3; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    await env.fake.waitFor(() => started().length === 6, { what: 'six jobs running again', timeout: 60_000 });
    expect((await runningOn(env, [unix], 6))[0]).toHaveLength(6);
    await env.openGate();
    await env.fake.waitFor(
      () => env.fake.jobs().length === 9 && env.fake.jobs().every((j) => j.state === 'completed'),
      { what: 'nine jobs completed', timeout: 60_000 },
    );
    const results = env.fake
      .jobs()
      .map((j) => (doomed.has(j.runnerName ?? '') ? `lost:${j.result}` : j.result));
    expect(results.sort()).toEqual([...Array(3).fill('lost:failed'), ...Array(6).fill('succeeded')].sort());

    // The engine comes back: what died with it is removed; nothing of ours is left on either engine.
    await tls.engine.revive();
    await pollUntil(
      async () => (await onEngine(env, tls)).length === 0 && (await onEngine(env, unix)).length === 0,
      { timeout: 90_000, interval: 250, what: 'no container of ours on either engine' },
    );
    await env.fake.waitFor(() => env.fake.runners().length === 0, {
      what: 'no registration left',
      timeout: 60_000,
    });
    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
    for (const e of [unix, tls]) expect(await onEngine(env, e)).toEqual([]);
  }, 300_000);
});
