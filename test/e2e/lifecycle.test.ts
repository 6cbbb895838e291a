import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { containerNames, SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';

const setup = useE2e();

describe('runner run on a real Docker engine: crash, restart and drain', () => {
  it('after kill -9 mid-job, a restart adopts the busy runners; every job completes and nothing leaks', async () => {
    // Jobs are gated: they run until the test opens the gate, so "mid-job" is a fact, not a guess.
    const env = await setup({ maxRunners: 2, gate: true });
    const first = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    for (let i = 0; i < 3; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    const busy = await env.fake.waitFor(
      () => {
        const started = env.fake.jobs().filter((j) => j.state === 'started');
        return started.length === 2 ? started.map((j) => j.runnerName!).sort() : undefined;
      },
      { what: 'two jobs running (max-runners 2)', timeout: 30_000 },
    );

    const [stale] = env.fake.sessions();
    first.signal('SIGKILL');
    expect(await first.waitForExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    // The crash leaves the busy containers running: they are not the daemon's children.
    await env.waitContainerNames(busy, { what: 'busy runners still running after kill -9', running: true });

    const second = await env.startDaemon();
    const adopted = await second.waitForLog((l) => l.json?.msg === 'adopted runners of a previous run', {
      what: 'adoption of the previous run’s runners',
      timeout: 30_000,
    });
    expect(adopted.json?.adopted).toBe(2);
    // The stale session of the killed daemon expires (no more polls) and the new one takes over.
    await env.fake.waitFor(() => env.fake.sessions().some((s) => s.sessionId !== stale?.sessionId), {
      what: 'new session after the stale one expired',
      timeout: 30_000,
    });
    const status = await env.status();
    expect(status.scaleSets[0]?.counters.adopted).toBe(2);
    // The gated jobs are still the ones running: adoption did not restart or kill them.
    expect(
      env.fake
        .jobs()
        .filter((j) => j.state === 'started')
        .map((j) => j.runnerName)
        .sort(),
    ).toEqual(busy);

    await env.openGate();
    await env.fake.waitFor(() => env.fake.jobs().every((j) => j.state === 'completed'), {
      what: 'all three jobs completed',
      timeout: 45_000,
    });
    expect(env.fake.jobs().map((j) => j.result)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The third job ran on a runner the second daemon started.
    const third = env.fake.jobs().find((j) => !busy.includes(j.runnerName!));
    expect(third?.runnerName).toBeDefined();
    await env.waitContainers((cs) => cs.length === 0, { what: 'every runner container removed' });
    await env.fake.waitFor(() => env.fake.runners().length === 0, { what: 'registrations gone' });

    await stopGracefully(second);
    await env.expectNothingLeft({ sessions: true });
  });

  it('kill -9 between creating a container and starting it: the restart removes it instead of adopting it', async () => {
    const proxy = await DockerProxy.start();
    const env = await setup({ minRunners: 1, docker: `host = "${proxy.host}"` });
    env.onCleanup(() => proxy.close());
    // The engine takes the create and never answers the start: the daemon is killed right there.
    const starting = (r: { method: string; url: string }) =>
      r.method === 'POST' && /\/containers\/[^/]+\/start/.test(r.url);
    proxy.stall(starting);
    const first = await env.startDaemon();
    await pollUntil(() => proxy.requests.some(starting), {
      what: 'the start sent',
      timeout: 30_000,
      interval: 20,
    });
    first.signal('SIGKILL');
    await first.waitForExit(10_000);
    proxy.recover();
    const [half] = await env.waitContainers((cs) => (cs.length === 1 ? cs : undefined), {
      what: 'the container left created',
    });
    expect(half?.State).toBe('created');
    const name = containerNames([half!])[0]!;
    expect(env.fake.runners().map((r) => [r.name, r.status])).toEqual([[name, 'offline']]);

    // Adopted, it would stand in for the warm runner forever (until idle-timeout) without taking a job.
    const second = await env.startDaemon();
    const warm = await env.fake.waitFor(
      () => env.fake.runners().find((r) => r.status === 'idle' && r.name !== name)?.name,
      { what: 'a warm runner of the new daemon, connected', timeout: 30_000 },
    );
    await env.waitContainerNames([warm], { what: 'only the warm runner’s container', running: true });
    await env.fake.waitFor(() => env.fake.runners().every((r) => r.name !== name), {
      what: 'the half-started runner’s registration removed',
    });
    expect(second.logs('adopted runners of a previous run')).toEqual([]);
    await stopGracefully(second);
    await env.expectNothingLeft({ sessions: false });
  });

  it('SIGTERM drains: the idle runner goes at once, the busy one finishes its job, then exit 0', async () => {
    // min-runners 1 plus one running job: one busy runner and one idle one.
    const env = await setup({ minRunners: 1, maxRunners: 3, gate: true });
    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    const job = env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    const { busyName, idleName } = await env.fake.waitFor(
      () => {
        const j = env.fake.jobs()[0];
        const idle = env.fake.runners().filter((r) => r.status === 'idle');
        return j?.state === 'started' && idle.length === 1 && env.fake.runners().length === 2
          ? { busyName: j.runnerName!, idleName: idle[0]!.name }
          : undefined;
      },
      { what: 'one busy and one idle runner', timeout: 30_000 },
    );
    await env.waitContainerNames([busyName, idleName], { what: 'busy and idle runner', running: true });

    d.signal('SIGTERM');
    // The idle runner's container and registration go promptly; the busy one keeps running its job.
    await env.waitContainerNames([busyName], {
      what: 'idle container removed, busy one left',
      timeout: 10_000,
    });
    await env.fake.waitFor(() => !env.fake.runners().some((r) => r.name === idleName), {
      what: 'idle runner unregistered',
    });
    expect(d.exit).toBeUndefined();
    expect(env.fake.jobs()[0]?.state).toBe('started');
    expect((await env.containers({ running: true })).length).toBe(1);
    // While draining, the daemon's polls ask GitHub for no more jobs (from the first poll after SIGTERM).
    await env.fake.waitFor(() => env.fake.scaleSets()[0]?.maxCapacity === 0, {
      what: 'a poll with X-ScaleSetMaxCapacity 0',
    });

    await env.openGate();
    const exit = await d.waitForExit(30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(env.fake.jobs()[0]).toMatchObject({
      requestId: job.requestId,
      state: 'completed',
      result: 'succeeded',
    });
    expect(d.logs('shutdown complete')).toHaveLength(1);
    // Session gone, scale set kept (so jobs queued during a restart are not lost), nothing leaked.
    expect(env.fake.scaleSets()).toHaveLength(1);
    await env.expectNothingLeft({ sessions: true });
  });

  // Regression test for a bug this suite found (fixed in the scaler): when deregistering a finished
  // runner failed at GitHub (5xx until the client gave up, or a 401 right after an admin token
  // expired), the runner was parked as `failed` with its container still there, and a graceful stop
  // neither retried nor removed it. Now the container of a runner whose process ended is removed even
  // when GitHub cannot be reached, and drain retries the registration.
  it('a graceful stop still removes a finished runner whose deregistration failed', async () => {
    // No reconcile during the test: what is under test is the stop path, not the timer.
    const env = await setup({ maxRunners: 1, top: 'reconcile-interval = "10m"' });
    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    // Every attempt of the client (1 + 4 retries, ~15 s of backoff) to delete the runner gets a 500.
    env.fake.faults.inject({ route: 'agent', status: 500, times: 5 });
    env.fake.queueJob({ scaleSet: SCALE_SET, script: 'sleep 0.2' });
    await env.fake.waitFor(() => env.fake.jobs()[0]?.state === 'completed', {
      what: 'job done',
      timeout: 20_000,
    });
    const runner = env.fake.jobs()[0]!.runnerName!;
    expect(env.fake.jobs()[0]!.result).toBe('succeeded');
    await d.waitForLog((l) => l.json?.level === 'warn' && l.json.runner === runner, {
      what: `the failed removal of ${runner}`,
      timeout: 30_000,
    });
    expect(env.fake.requests.filter((r) => r.route === 'agent')).toHaveLength(5);

    await stopGracefully(d);
    // Fails today: [ e2e-…-… (exited) ] is left.
    await env.expectNothingLeft({ sessions: true });
  });
});
