import { afterEach, describe, expect, it } from 'vitest';
import { LABEL_RUNNER_NAME } from '../../src/labels.js';
import { testDocker, useDocker } from '../setup/docker.js';
import { ContainerWatch, E2eEnv, type E2eOptions, SCALE_SET, stopGracefully } from './support/e2e-env.js';

useDocker();

const envs: E2eEnv[] = [];
const watches: ContainerWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.stop();
  await Promise.all(envs.splice(0).map((e) => e.cleanup()));
});

async function setup(opts: E2eOptions) {
  const env = await E2eEnv.create(opts);
  envs.push(env);
  return env;
}

async function watch(env: E2eEnv): Promise<ContainerWatch> {
  const w = await ContainerWatch.start(env);
  watches.push(w);
  return w;
}

const allCompleted = (env: E2eEnv, n: number, timeout = 45_000) =>
  env.fake.waitFor(
    () => env.fake.jobs().length === n && env.fake.jobs().every((j) => j.state === 'completed'),
    { what: `${n} jobs completed`, timeout },
  );

describe('runner run on a real Docker engine: scaling', () => {
  it('runs every job in a fresh container that is gone afterwards', async () => {
    const env = await setup({ maxRunners: 3 });
    const w = await watch(env);
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
    expect(w.count('create')).toBe(5);
    expect(w.count('destroy')).toBe(5);
    expect(new Set(w.events.map((e) => e.name))).toEqual(runnerNames);
    await env.fake.waitFor(() => env.fake.runners().length === 0, { what: 'registrations gone' });

    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });
});
