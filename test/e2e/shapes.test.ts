import { describe, expect, it } from 'vitest';
import { LABEL_SCALE_SET } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
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

  it('on a full budget jobs start in the order GitHub queued them, across shapes: a big job is not passed by later small ones, and the budget is never overcommitted', async () => {
    const env = await setup({
      maxRunners: 4,
      gate: true,
      docker: [
        '',
        '[[docker.hosts]]',
        'url = "unix:///var/run/docker.sock"',
        'cpus = 2',
        'memory = "8g"',
        '',
        '[[shape]]',
        'cpu = 1',
        'ram = 1',
        '',
        '[[shape]]',
        'cpu = 2',
        'ram = 2',
      ].join('\n'),
    });
    const small = `${SCALE_SET}-cpu1-ram1`;
    const big = `${SCALE_SET}-cpu2-ram2`;
    // The CPUs of the runner containers running at each start, from the engine's own events.
    const cpusOf = (set: string | undefined) => (set === small ? 1 : set === big ? 2 : 0);
    const running = new Map<string, number>();
    const peaks: number[] = [];
    const events = await testDocker.getEvents({
      filters: { type: ['container'], event: ['start', 'die'], label: env.labelFilter },
    });
    env.onCleanup(() => {
      (events as unknown as { destroy(): void }).destroy();
    });
    events.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const e = JSON.parse(line) as {
          status: string;
          id: string;
          Actor: { Attributes: Record<string, string> };
        };
        if (e.status === 'start') running.set(e.id, cpusOf(e.Actor.Attributes[LABEL_SCALE_SET]));
        else running.delete(e.id);
        peaks.push([...running.values()].reduce((a, b) => a + b, 0));
      }
    });

    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 2, { what: 'two sessions', timeout: 30_000 });
    const startedAt = (id: number) =>
      env.fake
        .jobs()
        .find((j) => j.requestId === id)
        ?.history.find((h) => h.state === 'started')?.at;
    const setStatus = async (name: string) => (await env.status()).scaleSets.find((s) => s.name === name);

    // One small job holds half the budget.
    const s1 = env.fake.queueJob({ labels: [SCALE_SET, 'cpu=1'], script: env.gatedScript() });
    await env.fake.waitFor(() => startedAt(s1.requestId) !== undefined, {
      what: 'the first small job running',
      timeout: 60_000,
    });
    // A big job cannot fit beside it, and waits for the budget.
    const b = env.fake.queueJob({ labels: [SCALE_SET, 'cpu=2'], script: env.gatedScript() });
    const bigWaits = await pollUntil(
      async () => {
        const w = (await setStatus(big))?.waiting;
        return w?.reason === 'budget' ? w : undefined;
      },
      { timeout: 60_000, interval: 100, what: 'the big job waiting for the budget' },
    );
    expect(bigWaits.jobs).toBe(1);
    // Two later small jobs would fit in the CPU left, but it is the big job's: they wait behind it.
    const later = [0, 1].map(() =>
      env.fake.queueJob({ labels: [SCALE_SET, 'cpu=1'], script: env.gatedScript() }),
    );
    const smallWaits = await pollUntil(
      async () => {
        const w = (await setStatus(small))?.waiting;
        return w?.reason === 'older-job' && w.jobs === 2 ? w : undefined;
      },
      { timeout: 60_000, interval: 100, what: 'the later small jobs waiting behind the big one' },
    );
    expect(smallWaits).toMatchObject({
      detail: big,
      text: `2 jobs without a runner: an older job of ${big} goes first on the shared budget`,
    });
    expect(later.map((j) => startedAt(j.requestId))).toEqual([undefined, undefined]);
    const shown = await env.cli(['status']);
    expect(shown.stdout).toContain(
      `waiting  2 jobs without a runner: an older job of ${big} goes first on the shared budget`,
    );
    expect(shown.stdout).toContain('shape    cpu=1 ram=1 of e2e');

    // The first small job ends: the big one starts next, then the later small ones.
    await env.openGate();
    await env.fake.waitFor(() => env.fake.jobs().every((j) => j.result === 'succeeded'), {
      what: 'every job succeeded',
      timeout: 90_000,
    });
    const bigStart = startedAt(b.requestId) ?? Number.NaN;
    for (const j of later) expect(startedAt(j.requestId)).toBeGreaterThan(bigStart);
    expect(Math.max(...peaks)).toBeLessThanOrEqual(2);
    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  }, 180_000);
});
