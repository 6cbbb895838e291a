import { describe, expect, it } from 'vitest';
import { testDocker } from '../setup/docker.js';
import {
  ContainerWatch,
  containerEventsBetween,
  containerNames,
  type E2eEnv,
  SCALE_SET,
  scaleSetFilter,
  stopGracefully,
  useE2e,
} from './support/e2e-env.js';

const setup = useE2e();

const allCompleted = (env: E2eEnv, n: number, timeout = 45_000) =>
  env.fake.waitFor(
    () => env.fake.jobs().length === n && env.fake.jobs().every((j) => j.state === 'completed'),
    { what: `${n} jobs completed`, timeout },
  );

const idleRunners = (env: E2eEnv) => env.fake.runners().filter((r) => r.status === 'idle');

describe('runner run on a real Docker engine: scaling', () => {
  it('runs every job in a fresh container that is gone afterwards', async () => {
    const env = await setup({ maxRunners: 3 });
    const w = await ContainerWatch.start(env);
    const t0 = Date.now();
    const d = await env.startDaemon();
    const started = await d.waitForLog((l) => l.json?.msg === 'runner started', { what: 'runner started' });
    // The id the daemon runs as is the one persisted in state-dir, i.e. the label the test filters on.
    expect(started.json?.instanceId).toBe(env.instanceId);
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });

    for (let i = 0; i < 5; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: 'sleep 0.2' });
    await allCompleted(env, 5);
    expect(env.fake.jobs().map((j) => j.result)).toEqual(Array(5).fill('succeeded'));

    // One runner per job: five distinct runners ran them, each in its own container.
    const runnerNames = new Set(env.fake.jobs().map((j) => j.runnerName));
    expect(runnerNames.size).toBe(5);
    await env.waitContainers((cs) => cs.length === 0, { what: 'every runner container removed' });
    await w.waitFor(() => w.count('destroy') === 5, { what: 'five destroy events' });
    expect(w.count('create')).toBe(5);
    expect(new Set(w.events.map((e) => e.name))).toEqual(runnerNames);
    // The engine's event history agrees (the bad-config test relies on that query finding nothing).
    const history = await containerEventsBetween(env.labelFilter, t0, Date.now());
    expect(history.filter((e) => e.action === 'create')).toHaveLength(5);
    // Other files' daemons run sets of the same name meanwhile, hence "contains", not "equals".
    const bySet = await containerEventsBetween(scaleSetFilter(SCALE_SET), t0, Date.now());
    for (const n of runnerNames) expect(bySet.map((e) => e.name)).toContain(n);
    await env.fake.waitFor(() => env.fake.runners().length === 0, { what: 'registrations gone' });

    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });

  it('never runs more than max-runners containers or registrations in a burst', async () => {
    const env = await setup({ maxRunners: 3 });
    // Three views of "how many at once": the engine's create/destroy events (exact: they see even a
    // container that lives for milliseconds), a `docker ps` taken at each of those events, and every
    // registration change at the fake.
    const w = await ContainerWatch.start(env);
    const listings: Promise<number>[] = [];
    w.onEvent(() => listings.push(env.containers().then((cs) => cs.length)));
    let registrationsPeak = 0;
    env.observeFake(() => {
      registrationsPeak = Math.max(registrationsPeak, env.fake.runners().length);
    });

    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    for (let i = 0; i < 10; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: 'sleep 0.2' });
    await allCompleted(env, 10, 60_000);
    await env.waitContainers((cs) => cs.length === 0, { what: 'every runner container removed' });
    await w.waitFor(() => w.count('destroy') === 10, { what: 'ten destroy events' });
    const listedPeak = Math.max(...(await Promise.all(listings)));

    expect(env.fake.jobs().map((j) => j.result)).toEqual(Array(10).fill('succeeded'));
    expect(w.peak).toBeLessThanOrEqual(3);
    expect(listedPeak).toBeLessThanOrEqual(3);
    expect(registrationsPeak).toBeLessThanOrEqual(3);
    // And the burst really ran in parallel, so the bound above was actually pressed against.
    expect(w.peak).toBeGreaterThanOrEqual(2);
    expect(registrationsPeak).toBeGreaterThanOrEqual(2);
    expect(w.count('create')).toBe(10);

    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });

  it('keeps a warm pool of min-runners that picks up a job and is refilled', async () => {
    const env = await setup({ minRunners: 2, maxRunners: 4 });
    const d = await env.startDaemon();
    const warm = await env.fake.waitFor(
      () => {
        const idle = idleRunners(env);
        return idle.length === 2 ? idle.map((r) => r.name).sort() : undefined;
      },
      { what: 'two idle runners registered', timeout: 30_000 },
    );
    // Each idle registration is backed by a running container of the same name, and nothing else runs.
    await env.waitContainerNames(warm, { what: 'the warm runners', running: true });
    expect(containerNames(await env.containers())).toEqual(warm);

    env.fake.queueJob({ scaleSet: SCALE_SET, script: 'sleep 0.2' });
    await allCompleted(env, 1);
    const job = env.fake.jobs()[0]!;
    expect(job.result).toBe('succeeded');
    expect(warm).toContain(job.runnerName);

    // The pool is back at two idle runners, the used one is gone, and the containers match again.
    const refilled = await env.fake.waitFor(
      () => {
        const idle = idleRunners(env);
        return idle.length === 2 && env.fake.runners().length === 2
          ? idle.map((r) => r.name).sort()
          : undefined;
      },
      { what: 'pool refilled to two idle runners', timeout: 30_000 },
    );
    expect(refilled).not.toContain(job.runnerName);
    await env.waitContainerNames(refilled, { what: 'the refilled pool' });

    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });

  it('notices a `docker kill` of an idle runner and replaces it', async () => {
    const env = await setup({ minRunners: 1, maxRunners: 2 });
    const d = await env.startDaemon();
    const victim = await env.fake.waitFor(() => idleRunners(env)[0], {
      what: 'an idle runner',
      timeout: 30_000,
    });
    await env.waitContainerNames([victim.name], { what: 'the idle runner', running: true });
    const [container] = await env.containers({ running: true });

    await testDocker.getContainer(container!.Id).kill();

    // A new runner registers and comes up idle in a new container; the dead one's registration and
    // container are removed.
    const replacement = await env.fake.waitFor(
      () => {
        const idle = idleRunners(env);
        return idle.length === 1 && env.fake.runners().length === 1 && idle[0]!.name !== victim.name
          ? idle[0]
          : undefined;
      },
      { what: 'a replacement runner, and the killed one unregistered', timeout: 30_000 },
    );
    await env.waitContainerNames([replacement.name], { what: 'only the replacement left' });
    expect(d.logs('runner exited').map((l) => l.runner)).toContain(victim.name);

    // The replacement is a working runner, not just a container.
    env.fake.queueJob({ scaleSet: SCALE_SET, script: 'sleep 0.2' });
    await allCompleted(env, 1);
    expect(env.fake.jobs()[0]).toMatchObject({ result: 'succeeded', runnerName: replacement.name });

    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });
});
