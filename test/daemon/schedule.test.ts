import { afterEach, describe, expect, it } from 'vitest';
import { LABEL_INSTANCE } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { startFakeActionsService } from '../fakes/actions-service/index.js';
import { FAKE_IMAGE, testDocker, useDocker } from '../setup/docker.js';
import { ManualClock } from '../support/manual-clock.js';
import { configFor, startTestDaemon } from './harness.js';

/**
 * Warm runners that follow the working day (issue 16): a `[[schedule]]` window raises min-runners
 * while it is open and lowers it when it closes. The daemon runs in this process on a clock the test
 * moves, with real runner containers on the engine and the fake Actions service.
 */
useDocker();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** 2026-12-07 (a Monday) at hh:mm UTC. */
const mondayAt = (hh: number, mm: number) => Date.UTC(2026, 11, 7, hh, mm);

describe('[[schedule]] on Docker', () => {
  it('a window opens two warm runners at 08:00 in its time zone and takes them away when it closes', async () => {
    const fake = await startFakeActionsService({ holdMs: 300 });
    cleanups.push(() => fake.close());
    const config = await configFor(
      fake,
      `name = "warm"
runner-image = "${FAKE_IMAGE}"
max-runners = 3
[docker]
network = "host"
pull-policy = "never"
[[schedule]]
days = "mon-fri"
hours = "09:00-19:00"
timezone = "Europe/Berlin"
min-runners = 2
`,
    );
    // 07:59 UTC is 08:59 in Berlin: a minute before the window opens.
    const clock = new ManualClock(mondayAt(7, 59));
    const { daemon } = await startTestDaemon(config, { clock });
    cleanups.push(async () => {
      daemon.abort();
      await daemon.done;
      const left = await testDocker.listContainers({
        all: true,
        filters: { label: [`${LABEL_INSTANCE}=${daemon.instanceId}`] },
      });
      for (const c of left) await testDocker.getContainer(c.Id).remove({ force: true });
    });
    const containers = () =>
      testDocker.listContainers({ filters: { label: [`${LABEL_INSTANCE}=${daemon.instanceId}`] } });
    const warm = () => daemon.status().scaleSets[0];
    await fake.waitFor(() => fake.sessions().length === 1, { what: 'session', timeout: 30_000 });
    await pollUntil(() => warm()?.phase === 'listening' || undefined, { timeout: 30_000, what: 'listening' });
    expect(warm()).toMatchObject({ minRunners: 0, desiredRunners: 0 });
    expect(await containers()).toEqual([]);

    // 08:00 UTC, 09:00 in Berlin: the window opens and two runners come up, idle, waiting for jobs.
    clock.advance(60_000);
    await pollUntil(async () => (await containers()).length === 2 || undefined, {
      timeout: 60_000,
      what: 'two warm runner containers',
    });
    await pollUntil(() => warm()?.runnerCounts.idle === 2 || undefined, {
      timeout: 60_000,
      what: 'two idle runners',
    });
    expect(warm()).toMatchObject({ minRunners: 2, desiredRunners: 2 });
    expect(fake.runners()).toHaveLength(2);

    // 18:00 UTC, 19:00 in Berlin: the window closes and the idle runners go.
    clock.advance(mondayAt(18, 0) - clock.now());
    await pollUntil(async () => (await containers()).length === 0 || undefined, {
      timeout: 60_000,
      what: 'the warm runners removed',
    });
    await pollUntil(() => fake.runners().length === 0 || undefined, {
      timeout: 30_000,
      what: 'registrations removed',
    });
    expect(warm()).toMatchObject({ minRunners: 0, desiredRunners: 0 });
  }, 120_000);
});
