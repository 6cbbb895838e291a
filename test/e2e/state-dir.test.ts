import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectStateDirLock } from '../../src/state/state-dir-lock.js';
import { seaBinary } from '../cmd/support/built-cli.js';
import { testDocker } from '../setup/docker.js';
import { freePort } from './support/daemon-files.js';
import { ContainerWatch, type E2eEnv, stopGracefully, useE2e } from './support/e2e-env.js';

const setup = useE2e();

/** The one idle runner min-runners = 1 keeps: registered at the fake and its container running. */
async function idleRunner(env: E2eEnv): Promise<string> {
  const name = await env.fake.waitFor(
    () => {
      const idle = env.fake.runners().filter((r) => r.status === 'idle');
      return idle.length === 1 ? idle[0]!.name : undefined;
    },
    { what: 'one idle runner', timeout: 30_000 },
  );
  await env.waitContainerNames([name], { what: 'the idle runner’s container', running: true });
  return name;
}

describe('one daemon per state-dir (real daemons, real Docker, fake GitHub)', () => {
  it('a second daemon on the same state-dir exits at once naming the first one’s pid, touching nothing', async () => {
    const env = await setup({ minRunners: 1 });
    const first = await env.startDaemon();
    const idle = await idleRunner(env);
    const watch = await ContainerWatch.start(env);

    // Same config and state-dir, another health port: before the lock it adopted the first daemon's
    // idle runner and removed it when it was stopped.
    const second = await env.startDaemon({ env: { RUNNER_HEALTH_PORT: String(await freePort()) } });
    expect(await second.waitForExit(15_000)).toEqual({ code: 1, signal: null });
    const refusal = second.lines.filter((l) => l.json?.level === 'error');
    expect(refusal).toHaveLength(1);
    expect(refusal[0]?.json?.msg).toContain(
      `state-dir ${env.stateDir} is in use by pid ${first.pid} (runner run, since `,
    );
    expect(refusal[0]?.json?.msg).toContain('Stop that daemon first');
    expect(second.logs('runner started')).toEqual([]);

    // The first daemon's runner is untouched, and it still runs it.
    expect(watch.events).toEqual([]);
    expect(env.fake.runners().map((r) => r.name)).toEqual([idle]);
    await env.waitContainerNames([idle], { what: 'the idle runner still running', running: true });
    expect(first.exit).toBeUndefined();
    await stopGracefully(first);
    await env.expectNothingLeft({ sessions: true });
  });

  it('the single binary takes the same lock: its run is refused and its doctor sees the npm install’s daemon', async () => {
    const sea = await seaBinary();
    const env = await setup({ minRunners: 1 });
    const first = await env.startDaemon();
    const idle = await idleRunner(env);
    const watch = await ContainerWatch.start(env);
    const run = await env.cli(['run'], {
      binary: sea,
      env: { RUNNER_HEALTH_PORT: String(await freePort()) },
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`is in use by pid ${first.pid} (runner run, since `);
    const doctor = await env.cli(['doctor'], { binary: sea });
    expect(doctor.stdout).toContain(`daemon: running — pid ${first.pid} (runner run, since `);
    expect(watch.events).toEqual([]);
    expect(env.fake.runners().map((r) => r.name)).toEqual([idle]);
    await stopGracefully(first);
    await env.expectNothingLeft({ sessions: true });
  }, 240_000);

  it('after kill -9 of the daemon the next start takes the lock at once and adopts its runner', async () => {
    const env = await setup({ minRunners: 1 });
    const first = await env.startDaemon();
    const idle = await idleRunner(env);
    first.signal('SIGKILL');
    expect(await first.waitForExit(10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    // The killed daemon could not remove its lock entry; the kernel has closed its socket.
    expect(await readdir(join(env.stateDir, 'lock'))).toHaveLength(1);

    const second = await env.startDaemon();
    const adopted = await second.waitForLog((l) => l.json?.msg === 'adopted runners of a previous run', {
      what: 'adoption of the killed daemon’s runner',
      timeout: 30_000,
    });
    expect(adopted.json?.adopted).toBe(1);
    expect(second.text).not.toContain('is in use by');
    expect(await inspectStateDirLock(env.stateDir)).toMatchObject({
      state: 'held',
      holder: { pid: second.pid, command: 'runner run' },
    });
    expect(await readdir(join(env.stateDir, 'lock'))).toHaveLength(1);
    expect(env.fake.runners().map((r) => r.name)).toContain(idle);
    await stopGracefully(second);
    // A graceful stop leaves no entry behind. (The killed daemon's session expires at the fake on
    // its own time: not what this test is about.)
    expect(await readdir(join(env.stateDir, 'lock'))).toEqual([]);
    await env.expectNothingLeft({ sessions: false });
  });
});

describe('doctor with health-port = 0 knows from the lock whether a daemon runs', () => {
  it('while the daemon runs, --fix --force refuses naming its pid and touches nothing', async () => {
    const env = await setup({ minRunners: 1, healthPort: 0 });
    const d = await env.startDaemon();
    const idle = await idleRunner(env);
    const r = await env.cli(['doctor', '--fix', '--force']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain(`daemon: running — pid ${d.pid} (runner run, since `);
    expect(r.stdout).toContain(`refusing to --fix: pid ${d.pid} (runner run, since `);
    expect(r.stdout).toContain('1 runner(s) in use by the running daemon');
    expect(r.stdout).not.toContain('Fixing:');
    await env.waitContainerNames([idle], { what: 'the idle runner still running', running: true });
    expect(env.fake.runners().map((r) => r.name)).toEqual([idle]);
    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
  });

  it('after kill -9 and docker rm -f of its runner, doctor finds the registration and --fix removes it', async () => {
    const env = await setup({ minRunners: 1, healthPort: 0 });
    const d = await env.startDaemon();
    const idle = await idleRunner(env);
    d.signal('SIGKILL');
    await d.waitForExit(10_000);
    await testDocker.getContainer(idle).remove({ force: true });

    // The registration is a minute old at most: before the lock, doctor gave it a 10-minute grace
    // as a possible start in flight, and said "Nothing left over."
    const listed = await env.cli(['doctor']);
    expect(listed.code, listed.stdout).toBe(1);
    expect(listed.stdout).toContain('daemon: not running — no process holds the state-dir lock');
    expect(listed.stdout).toMatch(
      new RegExp(`✗ runner ${idle} registered at GitHub, runner id \\d+, but its container is gone`),
    );
    expect(listed.stdout).not.toContain('Nothing left over');

    const fixed = await env.cli(['doctor', '--fix', '--force']);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(fixed.stdout).toContain('Removed 1 of 1.');
    await env.expectNothingLeft({ sessions: false });
  });
});
