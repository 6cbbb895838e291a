import { describe, expect, it } from 'vitest';
import { LABEL_SCALE_SET } from '../../src/labels.js';
import { testDocker } from '../setup/docker.js';
import { SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';

/**
 * Job shapes (issue 16) through `runner run`, the fake Actions service and the real engine: one
 * `[[shape]]` per size, each registered as a scale set of its own with its size labels; a job routed by
 * the labels of its runs-on runs in a container with that shape's CPU and memory limits.
 */
const setup = useE2e();
const GiB = 1024 ** 3;

describe('job shapes on Docker', () => {
  it('jobs asking cpu=1/ram=1 and cpu=2/ram=2 run in containers with those limits, each in its shape', async () => {
    const env = await setup({
      maxRunners: 2,
      gate: true,
      // This machine's engine as a host with a budget both shapes fit in at once (the engine would
      // report 2 CPUs, and 1 + 2 would wait for each other).
      docker: [
        '',
        '[[docker.hosts]]',
        'url = "unix:///var/run/docker.sock"',
        'cpus = 4',
        'memory = "8g"',
        '',
        '[[shape]]',
        'cpu = 1',
        'ram = 1',
        'labels = ["small"]',
        '',
        '[[shape]]',
        'cpu = 2',
        'ram = 2',
      ].join('\n'),
    });
    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 2, { what: 'two sessions', timeout: 30_000 });
    const sets = env.fake.scaleSets().map((s) => [s.name, s.labels.map((l) => l.name)]);
    expect(sets.sort()).toEqual([
      [`${SCALE_SET}-cpu1-ram1`, [`${SCALE_SET}-cpu1-ram1`, SCALE_SET, 'cpu=1', 'ram=1', 'small']],
      [`${SCALE_SET}-cpu2-ram2`, [`${SCALE_SET}-cpu2-ram2`, SCALE_SET, 'cpu=2', 'ram=2']],
    ]);

    // Routed by labels, as GitHub routes runs-on: the alias reaches the small shape too.
    const small = env.fake.queueJob({ labels: [SCALE_SET, 'small'], script: env.gatedScript() });
    const big = env.fake.queueJob({ labels: [SCALE_SET, 'cpu=2', 'ram=2'], script: env.gatedScript() });
    await env.fake.waitFor(() => env.fake.jobs().filter((j) => j.state === 'started').length === 2, {
      what: 'both jobs running',
      timeout: 60_000,
    });

    // Each job's container carries its shape's limits.
    const limits = new Map<string, [number, number]>();
    for (const c of await env.containers()) {
      const info = await testDocker.getContainer(c.Id).inspect();
      limits.set(info.Config.Labels[LABEL_SCALE_SET] ?? '', [
        info.HostConfig.NanoCpus ?? 0,
        info.HostConfig.Memory ?? 0,
      ]);
    }
    expect(Object.fromEntries(limits)).toEqual({
      [`${SCALE_SET}-cpu1-ram1`]: [1e9, 1 * GiB],
      [`${SCALE_SET}-cpu2-ram2`]: [2e9, 2 * GiB],
    });
    const runnerOf = (requestId: number) =>
      env.fake.jobs().find((j) => j.requestId === requestId)?.runnerName;
    expect(runnerOf(small.requestId)).toMatch(new RegExp(`^${SCALE_SET}-cpu1-ram1-`));
    expect(runnerOf(big.requestId)).toMatch(new RegExp(`^${SCALE_SET}-cpu2-ram2-`));

    await env.openGate();
    await env.fake.waitFor(() => env.fake.jobs().every((j) => j.result === 'succeeded'), {
      what: 'both jobs succeeded',
      timeout: 60_000,
    });
    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  }, 120_000);
});
