import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { InProcessBackend } from '../fakes/inprocess-backend.js';
import { configFor, LogSink, startTestDaemon } from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(opts: Parameters<typeof startFakeActionsService>[0] = {}): Promise<FakeActionsService> {
  const f = await startFakeActionsService({ holdMs: 300, sessionIdleTimeoutMs: 1500, ...opts });
  cleanups.push(() => f.close());
  return f;
}

function track(d: Daemon) {
  cleanups.push(async () => {
    d.abort();
    await d.done;
  });
  return d;
}

describe('daemon against the fake Actions service (in-process runners)', () => {
  it('runs every job to completion and leaves nothing behind', async () => {
    const f = await fake();
    const backend = new InProcessBackend();
    const config = await configFor(f, 'name = "linux"\nmax-runners = 4\n');
    const { daemon } = await startTestDaemon(config, { backend: () => backend });
    track(daemon);
    await f.waitFor(() => f.sessions().length === 1, { what: 'session' });
    for (let i = 0; i < 10; i++) f.queueJob({ scaleSet: 'linux', durationMs: 50 });
    await f.waitFor(() => f.jobs().every((j) => j.state === 'completed'), {
      what: 'all jobs completed',
      timeout: 20_000,
    });
    expect(f.jobs().map((j) => j.result)).toEqual(Array(10).fill('succeeded'));
    await f.waitFor(() => backend.live === 0 && f.runners().length === 0, { what: 'runners gone' });
    await daemon.shutdown();
    expect(f.sessions()).toHaveLength(0);
    expect(f.scaleSets()).toHaveLength(1); // kept across restarts
    expect(f.runners()).toHaveLength(0);
    expect(await backend.listOwned()).toHaveLength(0);
  });

  it('keeps a warm pool of min-runners that picks up a job and is refilled', async () => {
    const f = await fake();
    const backend = new InProcessBackend();
    const config = await configFor(f, 'name = "linux"\nmin-runners = 2\nmax-runners = 4\n');
    const { daemon } = await startTestDaemon(config, { backend: () => backend });
    track(daemon);
    await f.waitFor(() => f.runners().filter((r) => r.status === 'idle').length === 2, {
      what: 'two idle runners',
    });
    const warm = f.runners().map((r) => r.name);
    f.queueJob({ scaleSet: 'linux' });
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', { what: 'job done' });
    expect(warm).toContain(f.jobs()[0]!.runnerName);
    await f.waitFor(() => f.runners().filter((r) => r.status === 'idle').length === 2, {
      what: 'pool refilled',
    });
  });

  it('never exceeds max-runners in a burst', async () => {
    const f = await fake();
    const backend = new InProcessBackend();
    const config = await configFor(f, 'name = "linux"\nmax-runners = 3\n');
    const { daemon } = await startTestDaemon(config, { backend: () => backend });
    track(daemon);
    await f.waitFor(() => f.sessions().length === 1);
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, f.runners().length, backend.live);
    }, 2);
    for (let i = 0; i < 12; i++) f.queueJob({ scaleSet: 'linux', durationMs: 30 });
    await f.waitFor(() => f.jobs().every((j) => j.state === 'completed'), {
      timeout: 30_000,
      what: 'burst done',
    });
    clearInterval(timer);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it('a crash mid-job then a restart: the job completes and nothing leaks', async () => {
    const f = await fake();
    const backend = new InProcessBackend();
    const config = await configFor(f, 'name = "linux"\nmax-runners = 2\n');
    const first = await startTestDaemon(config, { backend: () => backend });
    await f.waitFor(() => f.sessions().length === 1);
    f.queueJob({ scaleSet: 'linux', durationMs: 1500 });
    await f.waitFor(() => f.jobs()[0]?.state === 'started', { what: 'job started' });
    first.daemon.abort(); // no drain: the busy runner is left running, as after kill -9
    await first.daemon.done;
    expect(backend.live).toBe(1);
    f.faults.sessionConflict(2); // a crashed listener's session lingers at GitHub for a while

    const second = await startTestDaemon(config, { backend: () => backend });
    track(second.daemon);
    // The restart adopts the busy runner; its job completes and it is cleaned up.
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', {
      what: 'job completed after restart',
      timeout: 15_000,
    });
    expect(f.jobs()[0]!.result).toBe('succeeded');
    expect(second.daemon.status().scaleSets[0]!.counters.adopted).toBe(1);
    await f.waitFor(
      () => f.sessions().length === 1 && second.daemon.status().scaleSets[0]!.phase === 'listening',
      {
        what: 'new session after the stale one expired',
        timeout: 15_000,
      },
    );
    await f.waitFor(() => backend.live === 0, { what: 'runner removed' });
    await second.daemon.shutdown();
    expect(f.sessions()).toHaveLength(0);
    expect(f.runners()).toHaveLength(0);
    expect(await backend.listOwned()).toHaveLength(0);
  });

  it('one scale set failing at boot does not stop another, and recovers on its own', async () => {
    const f = await fake();
    const config = await configFor(
      f,
      'name = "x"\n[[scaleset]]\nname = "good"\n[[scaleset]]\nname = "grouped"\nrunner-group = "later"\n',
    );
    const backends = new Map<string, InProcessBackend>();
    const { daemon } = await startTestDaemon(config, {
      backend: (cfg) => {
        const b = new InProcessBackend();
        backends.set(cfg.name, b);
        return b;
      },
    });
    track(daemon);
    // The "grouped" set's runner group does not exist yet.
    await f.waitFor(() => f.sessions().length === 1, { what: 'good set listening' });
    f.queueJob({ scaleSet: 'good' });
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', { what: 'good set runs jobs' });
    const bad = daemon.status().scaleSets.find((s) => s.name === 'grouped')!;
    expect(bad.healthy).toBe(false);
    expect(bad.reason).toMatch(/later/);
    f.addRunnerGroup('later');
    await f.waitFor(() => f.sessions().length === 2, { what: 'second set recovers', timeout: 15_000 });
  });

  it('never logs the PAT or a JIT config, even at debug level', async () => {
    const f = await fake();
    const backend = new InProcessBackend();
    backend.failNextStarts = 1;
    const sink = new LogSink();
    const config = await configFor(f, 'name = "linux"\n');
    const { daemon } = await startTestDaemon(config, { backend: () => backend, sink, level: 'debug' });
    track(daemon);
    await f.waitFor(() => f.sessions().length === 1);
    f.faults.expireQueueTokens();
    f.queueJob({ scaleSet: 'linux' });
    await f.waitFor(() => f.jobs()[0]?.state === 'completed', { what: 'job' });
    await daemon.shutdown();
    expect(sink.lines.length).toBeGreaterThan(10);
    expect(sink.text).not.toContain(f.pat);
    const jitRequests = f.requests.filter((r) => r.route === 'jit-config');
    expect(jitRequests.length).toBeGreaterThan(0);
    for (const b of backend.started) expect(sink.text).toContain(b); // runner names are logged…
    const jits = f.runners().length; // (all removed)
    expect(jits).toBe(0);
    // …but no encoded JIT config (base64 of {"runnerUrl":…}) ever is.
    expect(sink.text).not.toMatch(/eyJydW5uZXJVcmwi/);
  });
});
