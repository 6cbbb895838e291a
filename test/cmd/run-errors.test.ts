import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBundle, runCli } from './support/built-cli.js';
import { writeConfig } from './support/config-file.js';

/** Errors `runner run` meets at start-up: one line a person can act on, a non-zero exit, no stack. */

let dir: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  await cliBundle();
  dir = mkdtempSync(join(tmpdir(), 'runner-run-errors-'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function config(extra: Record<string, unknown> = {}): string {
  return writeConfig(join(dir, 'config.toml'), {
    url: 'https://github.com/my-org',
    name: 'linux',
    token: 'ghp_notused',
    'state-dir': join(dir, 'state'),
    ...extra,
  });
}

describe('runner run with its health port taken', () => {
  it('exits 1 with one line naming the file, the key and the port', async () => {
    const file = config({ 'health-port': busyPort });
    const r = await runCli(['run', '--config', file], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: ${file}: health-port: expected a port free on 127.0.0.1, got ${busyPort}, which another process listens on (a runner daemon with this config? \`runner status\` tells); stop it, or set another health-port (0 turns the health server off)\n`,
    );
    expect(r.stderr).not.toMatch(/HealthServerError|EADDRINUSE|\n\s+at /);
  });

  it('names the variable when RUNNER_HEALTH_PORT set the port', async () => {
    const r = await runCli(['run', '--config', config()], {
      env: { ...process.env, RUNNER_HEALTH_PORT: String(busyPort) },
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: env RUNNER_HEALTH_PORT: expected a port free on 127.0.0.1, got ${busyPort}`,
    );
  });
});
