import { afterEach, describe, expect, it } from 'vitest';
import { BackendStallMonitor } from '../../src/daemon/backend-stall.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { checkHealth } from '../../src/health/health-check.js';
import type { Silence } from '../../src/kernel/answers.js';
import { createLogger } from '../../src/log.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { startFakeActionsService } from '../fakes/actions-service/index.js';
import { removeByInstance, useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { ManualClock } from '../support/manual-clock.js';
import { configFor, LogSink, startTestDaemon } from './harness.js';

const { image } = useDocker();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const logged = (sink: LogSink, msg: RegExp) =>
  sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => msg.test(String(l.msg)));

describe('a Docker engine that accepts connections and never answers', () => {
  it('is named in status, health and the log, and the daemon carries on when it answers again', async () => {
    const fake = await startFakeActionsService({ holdMs: 300, sessionIdleTimeoutMs: 1500 });
    cleanups.push(() => fake.close());
    const proxy = await DockerProxy.start();
    cleanups.push(() => proxy.close());
    proxy.stall();
    const config = await configFor(
      fake,
      [
        'name = "stall"',
        `runner-image = "${image}"`,
        'max-runners = 1',
        '[docker]',
        `host = "${proxy.host}"`,
        'network = "host"',
        'pull-policy = "never"',
      ].join('\n'),
    );
    const { daemon, sink } = await startTestDaemon(config, { backendStallAfterMs: 500 });
    let stopped = false;
    const stop = async (d: Daemon) => {
      if (!stopped) d.abort();
      await d.done;
    };
    cleanups.push(async () => {
      await stop(daemon);
      const { instanceId } = daemon;
      await removeByInstance(instanceId);
    });

    // Start-up waits on the engine (the image lookup of prepare): the scale set is not just "starting".
    const stall = await pollUntil(() => daemon.status().scaleSets[0]?.backendStall, {
      timeout: 10_000,
      what: 'the stall in status',
    });
    expect(Date.parse(stall.since)).toBeLessThanOrEqual(Date.now() - 500);
    expect(daemon.status().scaleSets[0]?.phase).toBe('starting');
    const health = checkHealth(daemon.status(), Date.now(), 95_000);
    expect(health.status).toBe('unhealthy');
    expect(health.scaleSets[0]?.reason).toMatch(/^backend docker not answering for \d+s/);
    await pollUntil(() => logged(sink, /^backend not answering for \d+s$/).length > 0, {
      timeout: 5_000,
      what: 'the stall logged',
    });
    expect(logged(sink, /^backend not answering/)[0]).toMatchObject({ level: 'warn', backend: 'docker' });
    expect(proxy.waiting).toBeGreaterThan(0);

    // The engine recovers: the request it held is answered and start-up goes on.
    proxy.recover();
    await pollUntil(() => daemon.status().scaleSets[0]?.phase === 'listening', {
      timeout: 20_000,
      what: 'listening after the engine answered',
    });
    expect(daemon.status().scaleSets[0]?.backendStall).toBeUndefined();
    await pollUntil(() => logged(sink, /^backend answering again after \d+s$/).length === 1, {
      timeout: 5_000,
      what: 'the recovery logged',
    });

    fake.queueJob({ scaleSet: 'stall', script: 'true' });
    await fake.waitFor(() => fake.jobs().every((j) => j.state === 'completed'), {
      what: 'the job completed after the recovery',
      timeout: 30_000,
    });
    await daemon.shutdown();
    stopped = true;
    expect(fake.sessions()).toHaveLength(0);
    expect(fake.runners()).toHaveLength(0);
  }, 60_000);
});

describe('BackendStallMonitor', () => {
  it('logs a stall when it begins, once a minute while it lasts, and when it ends', () => {
    const clock = new ManualClock();
    const sink = new LogSink();
    let silence: Silence | undefined;
    const monitor = new BackendStallMonitor({
      backend: { kind: 'docker', silence: () => silence },
      logger: createLogger({ level: 'debug', destination: sink }),
      clock,
      stallAfterMs: 10_000,
    });
    const abort = new AbortController();
    monitor.watch(abort.signal);

    silence = { since: clock.now(), lastError: 'GET /containers/json: no answer within 30s' };
    clock.advance(9_000);
    expect(monitor.stall()).toBeUndefined();
    expect(sink.lines).toEqual([]);
    clock.advance(1_000);
    expect(monitor.stall()).toMatchObject({ forMs: 10_000 });
    clock.advance(125_000);
    silence = undefined;
    clock.advance(1_000);
    abort.abort();
    clock.advance(60_000);

    const lines = sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
      'warn backend not answering for 10s',
      'warn backend not answering for 1m10s',
      'warn backend not answering for 2m10s',
      'info backend answering again after 2m16s',
    ]);
    expect(lines[0]).toMatchObject({
      backend: 'docker',
      notAnsweringMs: 10_000,
      lastError: 'GET /containers/json: no answer within 30s',
    });
  });

  it('a backend that cannot tell is never stalled', () => {
    const clock = new ManualClock();
    const monitor = new BackendStallMonitor({
      backend: { kind: 'memory' },
      logger: createLogger({ level: 'debug', destination: new LogSink() }),
      clock,
    });
    expect(monitor.stall()).toBeUndefined();
  });
});
