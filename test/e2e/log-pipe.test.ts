import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliBundle, node24 } from '../cmd/support/built-cli.js';
import { type E2eEnv, SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';

const setup = useE2e();

describe('runner run when the reader of its logs goes away', () => {
  it('stderr breaks: the daemon runs the job, notes the switch on stdout, and drains cleanly', async () => {
    const env = await setup({ maxRunners: 1 });
    const d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });

    // A fifo's reader dying: every later write to stderr fails with EPIPE.
    d.closePipe('stderr');
    env.fake.queueJob({ scaleSet: SCALE_SET, script: 'sleep 0.2' });
    await env.fake.waitFor(() => env.fake.jobs().every((j) => j.state === 'completed'), {
      what: 'the job completed after the log pipe broke',
      timeout: 45_000,
    });
    await env.waitContainers((cs) => cs.length === 0, { what: 'the runner container removed' });
    expect(d.exit, d.tail()).toBeUndefined();

    // One note where the logs went on, then the logs themselves.
    const note = await d.waitForLog(
      (l) => l.stream === 'stdout' && l.json?.msg === 'log destination failed; logging continues on stdout',
      { what: 'the note about the broken stderr, on stdout' },
    );
    expect(note.json).toMatchObject({ level: 'warn', failed: 'stderr', error: 'EPIPE' });
    expect(d.lines.filter((l) => l.json?.msg?.toString().startsWith('log destination')).length).toBe(1);

    await stopGracefully(d);
    expect(sessionDeletes(env)).toBe(1);
    expect(d.lines.some((l) => l.stream === 'stdout' && l.json?.msg === 'shutdown complete')).toBe(true);
    await env.expectNothingLeft({ sessions: true });
  }, 90_000);

  it('`runner run 2>&1 | tee log` and Ctrl-C: tee dies first, the daemon still drains and exits', async () => {
    const env = await setup({ maxRunners: 1, gate: true });
    const logFile = join(env.dir, 'tee.log');
    const cmd = `"${node24}" "${await cliBundle()}" run --config "${env.configFile}" 2>&1 | tee "${logFile}"`;
    // Its own process group, as a shell gives a foreground pipeline: Ctrl-C signals the whole group.
    const d = env.spawnDaemon('/bin/sh', ['-c', cmd]);
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 20_000 });
    env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    await env.fake.waitFor(() => env.fake.jobs().some((j) => j.state === 'started'), {
      what: 'the job running',
      timeout: 30_000,
    });

    process.kill(-d.pid, 'SIGINT');
    // The busy runner holds the drain; its job finishes while nobody reads the daemon's output.
    await env.openGate();
    await env.fake.waitFor(() => env.fake.jobs().every((j) => j.state === 'completed'), {
      what: 'the job completed during the drain',
      timeout: 30_000,
    });
    // `exited` waits for every holder of the pipe: sh, tee and the daemon all gone.
    await d.waitForExit(30_000);
    expect(env.fake.jobs().map((j) => j.result)).toEqual(['succeeded']);
    // Deleted by the drain, not expired: a daemon that died would have left it to time out.
    expect(sessionDeletes(env)).toBe(1);
    await env.expectNothingLeft({ sessions: true });
  }, 90_000);
});

const sessionDeletes = (env: E2eEnv) =>
  env.fake.requests.filter((r) => r.route === 'session' && r.method === 'DELETE').length;
