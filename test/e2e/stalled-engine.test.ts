import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { runCli } from '../cmd/support/built-cli.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { childEnv, useE2e } from './support/e2e-env.js';

const setup = useE2e();

interface Healthz {
  status: string;
  scaleSets: { reason?: string }[];
}

describe('runner run against a Docker engine that accepts connections and never answers', () => {
  it('names the stall in /healthz, `runner status` and the log, and SIGTERM still ends the process', async () => {
    const proxy = await DockerProxy.start();
    proxy.stall();
    const env = await setup({ docker: `host = "${proxy.host}"` });
    env.onCleanup(() => proxy.close());
    const d = await env.startDaemon();

    const stalled = /^backend docker not answering for \d+s/;
    const healthz = await pollUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${env.healthPort}/healthz`);
        const body = (await res.json()) as Healthz;
        return res.status === 503 && stalled.test(body.scaleSets[0]?.reason ?? '') ? body : undefined;
      },
      { timeout: 30_000, interval: 250, what: '/healthz naming the stalled engine' },
    );
    expect(healthz.status).toBe('unhealthy');

    const status = await runCli(['status', '--config', env.configFile], { env: childEnv(env.fake.pat) });
    expect(status.stdout).toMatch(/reason\s+backend docker not answering for \d+s/);
    const line = await d.waitForLog((l) => /^backend not answering for \d+s$/.test(String(l.json?.msg)), {
      what: 'the stall logged',
    });
    expect(line.json).toMatchObject({ level: 'warn', backend: 'docker' });

    // The engine still holds the daemon's request: shutting down must not wait for its answer.
    expect(proxy.waiting).toBeGreaterThan(0);
    const signalled = Date.now();
    d.signal('SIGTERM');
    expect(await d.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(d.logs('shutdown complete')).toHaveLength(1);
    // It ended because nothing was left open, not because the after-shutdown guard had to step in.
    expect(d.logs('exiting with handles still open after shutdown')).toEqual([]);
  }, 90_000);
});
