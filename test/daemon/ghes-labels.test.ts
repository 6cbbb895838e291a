import { afterEach, describe, expect, it } from 'vitest';
import type { RunnerConfig } from '../../src/config/types.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { DaemonStatus } from '../../src/health/status-types.js';
import { freePort } from '../e2e/support/daemon-files.js';
import { startFakeActionsService } from '../fakes/actions-service/index.js';
import { InProcessBackend } from '../fakes/inprocess-backend.js';
import { configFor, type LogSink, startTestDaemon } from './harness.js';

/**
 * GHES 3.18–3.20 drops a scale set's labels other than its name unless the appliance flag is on, without
 * an error (§4.5). The fake's GHES mode does the same; the daemon must say so, and show it in status.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FLAG = 'DistributedTask.AllowRunnerScaleSetCustomLabels';

async function run(config: RunnerConfig): Promise<{ daemon: Daemon; sink: LogSink }> {
  const backend = new InProcessBackend();
  const started = await startTestDaemon(config, { backend: () => backend });
  cleanups.push(async () => {
    started.daemon.abort();
    await started.daemon.done;
  });
  return started;
}

const labelErrors = (sink: LogSink) =>
  sink.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.level === 'error' && String(l.msg).includes(FLAG));

async function apiStatus(d: Daemon): Promise<DaemonStatus> {
  return (await (await fetch(`${d.healthUrl}/api/status`)).json()) as DaemonStatus;
}

describe('GHES custom labels (fake Actions service in GHES mode)', () => {
  it('labels dropped by GHES are an error naming the flag and show in status; with the flag on, a restart keeps them and the error goes', async () => {
    const f = await startFakeActionsService({
      holdMs: 300,
      sessionIdleTimeoutMs: 1500,
      ghes: { customLabelsFlag: false },
    });
    cleanups.push(() => f.close());
    const config = {
      ...(await configFor(f, 'name = "linux"\nlabels = ["gpu", "x64"]\nmax-runners = 2\n')),
      healthPort: await freePort(),
    };

    const first = await run(config);
    await f.waitFor(() => f.sessions().length === 1, { what: 'a session' });
    expect(f.scaleSets()[0]?.labels.map((l) => l.name)).toEqual(['linux']);
    expect(labelErrors(first.sink)).toEqual([
      expect.objectContaining({
        configured: ['linux', 'gpu', 'x64'],
        atGitHub: ['linux'],
        dropped: ['gpu', 'x64'],
        msg: expect.stringContaining('GitHub Enterprise Server dropped the labels gpu, x64'),
      }),
    ]);
    expect(first.daemon.status().scaleSets[0]?.droppedLabels).toEqual(['gpu', 'x64']);
    expect((await apiStatus(first.daemon)).scaleSets[0]?.droppedLabels).toEqual(['gpu', 'x64']);
    // Jobs still reach the scale set by its name; only the dropped labels are unreachable.
    expect(first.daemon.status().scaleSets[0]?.healthy).toBe(true);
    await first.daemon.shutdown();

    f.ghes({ customLabelsFlag: true });
    const second = await run(config);
    await f.waitFor(() => f.sessions().length === 1, { what: 'a session after the restart' });
    expect(f.scaleSets()[0]?.labels.map((l) => l.name)).toEqual(['linux', 'gpu', 'x64']);
    expect(labelErrors(second.sink)).toEqual([]);
    expect(second.daemon.status().scaleSets[0]).not.toHaveProperty('droppedLabels');
    const job = f.queueJob({ labels: ['gpu'] });
    await f.waitFor(() => job.state === 'completed', { what: 'a job that targets gpu', timeout: 15_000 });
  });
});
