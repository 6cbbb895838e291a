import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { useDocker } from '../setup/docker.js';
import { DockerProxy } from '../setup/docker-proxy.js';
import { cliBundle, runCli } from './support/built-cli.js';
import { writeConfig } from './support/config-file.js';

const { image: IMAGE } = useDocker();

let fake: FakeActionsService;
let proxy: DockerProxy;
let dir: string;

beforeAll(async () => {
  await cliBundle();
  fake = await startFakeActionsService();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A config whose Docker engine is DOCKER_HOST, and DOCKER_HOST an engine that accepts and never answers. */
async function stalledSetup(): Promise<{ file: string; env: NodeJS.ProcessEnv }> {
  dir = mkdtempSync(join(tmpdir(), 'runner-stalled-'));
  proxy = await DockerProxy.start();
  proxy.stall();
  const file = writeConfig(join(dir, 'config.toml'), {
    url: fake.configUrl(),
    name: 'linux',
    token: 'env:FAKE_PAT',
    'runner-image': IMAGE,
    'health-port': 0,
    'state-dir': join(dir, 'state'),
  });
  return { file, env: { ...process.env, NO_COLOR: '1', FAKE_PAT: fake.pat, DOCKER_HOST: proxy.host } };
}

describe('one-shot commands against a Docker engine that never answers', () => {
  it('`validate --timeout 2` says "no answer within 2s" and exits', async () => {
    const { file, env } = await stalledSetup();
    const started = Date.now();
    // runFile rejects when the process is still running at its timeout.
    const r = await runCli(['validate', '--config', file, '--timeout', '2'], { env, timeoutMs: 20_000 });
    expect(r.stdout).toContain('✗ Docker engine reachable: default engine');
    expect(r.stdout).toContain('no answer within 2s');
    expect(r.code).toBe(1);
    // The GitHub checks answer at once; the engine check ends at its 2 s; nothing lingers after.
    expect(Date.now() - started).toBeLessThan(10_000);
    // The request was sent to the engine (so the deadline, not a refused connection, ended it).
    expect(proxy.requestsTo('GET', '/version')).toHaveLength(1);
  }, 30_000);

  it('`run --dry-run` exits with the failed check', async () => {
    const { file, env } = await stalledSetup();
    const r = await runCli(['run', '--config', file, '--dry-run'], { env, timeoutMs: 30_000 });
    expect(r.stdout).toContain('no answer within');
    expect(r.code).toBe(1);
  }, 40_000);
});
