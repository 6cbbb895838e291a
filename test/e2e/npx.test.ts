import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliBundle, node24 } from '../cmd/support/built-cli.js';
import { type E2eEnv, SCALE_SET, useE2e } from './support/e2e-env.js';

const setup = useE2e();

/**
 * A package whose `runner` bin is the CLI as shipped, so `npx runner` in its directory runs it exactly
 * as in a clone of this repository: npm exec → sh -c → the bin (through its `env node` shebang).
 */
async function npmPackage(env: E2eEnv): Promise<string> {
  const dir = join(env.dir, 'pkg');
  await mkdir(dir);
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'runner-npx-probe', version: '0.0.0', bin: { runner: 'runner.mjs' } }),
  );
  const bin = join(dir, 'runner.mjs');
  await writeFile(bin, `#!/usr/bin/env node\nawait import(${JSON.stringify(await cliBundle())});\n`);
  await chmod(bin, 0o755);
  return dir;
}

const sessionDeletes = (env: E2eEnv) =>
  env.fake.requests.filter((r) => r.route === 'session' && r.method === 'DELETE').length;

describe('runner run started through npx', () => {
  it('SIGTERM to the npx process: the daemon drains, finishes the busy job, and the whole tree exits', async () => {
    const env = await setup({ maxRunners: 1, gate: true });
    const cwd = await npmPackage(env);
    // Node 24 first on PATH, as `npm ci` arranges for the project's scripts; npx finds the package's bin.
    const d = env.spawnDaemon('npx', ['--no', 'runner', 'run', '--config', env.configFile], {
      cwd,
      env: { PATH: `${dirname(node24)}:${process.env.PATH}` },
    });
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 30_000 });
    env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    await env.fake.waitFor(() => env.fake.jobs().some((j) => j.state === 'started'), {
      what: 'the job running',
      timeout: 30_000,
    });

    // What a supervisor does: signal the process it started, npx, and nothing else.
    d.signal('SIGTERM');
    await d.waitForLog((l) => l.json?.msg === 'shutting down: draining runners', {
      what: 'the daemon draining',
      timeout: 10_000,
    });
    await env.openGate();
    // `exited` waits for every process holding the log pipes: npm, its shell and the daemon.
    await d.waitForExit(30_000);
    expect(env.fake.jobs().map((j) => j.result)).toEqual(['succeeded']);
    expect(sessionDeletes(env)).toBe(1);
    expect(d.logs('shutdown complete')).toHaveLength(1);
    await env.expectNothingLeft({ sessions: true });
  }, 90_000);
});
