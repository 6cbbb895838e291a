import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../src/validate/index.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { actions, admin, createScaleSet } from '../fakes/actions-service/testing.js';
import { startFakeDedalus } from '../fakes/dedalus/index.js';
import { FAKE_TART_DIR, FakeTart } from '../fakes/tart/index.js';
import { useDocker } from '../setup/docker.js';
import { LockChild } from '../support/state-dir-lock.js';
import { cliBundle, node24, runCli } from './support/built-cli.js';
import { unusedPort, writeConfig } from './support/config-file.js';

const { image: IMAGE } = useDocker();

let fake: FakeActionsService;
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  await cliBundle();
  fake = await startFakeActionsService();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  fake.faults.clear();
  rmSync(dir, { recursive: true, force: true });
});

/** A config that can pass every check: the fake for GitHub, the local test image, a free port. */
async function goodConfig(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  dir = mkdtempSync(join(tmpdir(), 'runner-validate-'));
  return {
    url: fake.configUrl(),
    name: 'linux',
    token: 'env:FAKE_PAT',
    'runner-image': IMAGE,
    'health-port': await unusedPort(),
    'state-dir': join(dir, 'state'),
    docker: { 'pull-policy': 'never' },
    ...overrides,
  };
}

function validate(config: Record<string, unknown>, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const file = writeConfig(join(dir, 'config.toml'), config);
  return runCli(['validate', '--config', file, ...extra], {
    env: { ...process.env, NO_COLOR: '1', FAKE_PAT: fake.pat, ...env },
  });
}

async function validateJson(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const r = await validate(config, ['--json', '--timeout', '5'], env);
  return { code: r.code, report: JSON.parse(r.stdout) as ValidationReport, stderr: r.stderr };
}

/** validate --json of `config` written with file mode `mode` (writeConfig makes it 0600). */
async function validateMode(config: Record<string, unknown>, mode: number, env: NodeJS.ProcessEnv = {}) {
  const file = writeConfig(join(dir, 'config.toml'), config);
  chmodSync(file, mode);
  const r = await runCli(['validate', '--config', file, '--json', '--timeout', '5'], {
    env: { ...process.env, NO_COLOR: '1', FAKE_PAT: fake.pat, ...env },
  });
  return { file, code: r.code, report: JSON.parse(r.stdout) as ValidationReport };
}

function byId(report: ValidationReport, id: string) {
  return report.checks.filter((c) => c.id === id);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
}

describe('runner validate (built CLI)', () => {
  it('passes a good config with every check ✓ and exit 0, without side effects at GitHub', async () => {
    const before = fake.requests.length;
    const r = await validate(await goodConfig());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const line of [
      '✓ config',
      `✓ GitHub reachable at ${fake.configUrl()}, token accepted`,
      '✓ runner group "default" exists',
      "✓ GitHub keeps the scale set's labels (linux)",
      '✓ Docker engine reachable',
      `✓ runner image ${IMAGE} available (pull-policy never): present on the engine`,
      '✓ health port 127.0.0.1:',
      '✓ state-dir',
      'All checks passed.',
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).not.toContain('\u001b['); // no colours without a terminal
    const requests = fake.requests.slice(before);
    expect(requests.map((q) => q.route)).toContain('runner-groups');
    // Reads only: the labels check looks the scale set up, nothing is created or changed.
    const writes = requests.filter(
      (q) => q.method !== 'GET' && ['scale-sets', 'scale-set', 'sessions', 'jit-config'].includes(q.route),
    );
    expect(writes).toEqual([]);
    expect(requests.filter((q) => q.route === 'scale-sets').map((q) => q.method)).toEqual(['GET']);
    expect(fake.scaleSets()).toEqual([]);
  });

  it('on GHES, an existing scale set whose extra labels were dropped is ✗ naming the flag; with the flag on and the labels kept, ✓', async () => {
    fake.ghes({ customLabelsFlag: false });
    const a = await admin(fake);
    const id = await createScaleSet(a, 'linux', ['linux', 'gpu']);
    cleanups.push(async () => {
      fake.ghes(undefined);
      await actions(a, 'DELETE', `_apis/runtime/runnerscalesets/${id}`);
    });
    const config = await goodConfig({ labels: ['gpu'] });

    const dropped = await validateJson(config);
    expect(dropped.code).toBe(1);
    expect(byId(dropped.report, 'scale-set-labels')).toEqual([
      expect.objectContaining({
        scaleSet: 'linux',
        status: 'fail',
        title: "GitHub keeps the scale set's labels (linux, gpu)",
        detail: 'the scale set at GitHub has the labels linux; gpu missing',
        hint: expect.stringContaining(
          'Set-FeatureFlag -FeatureName DistributedTask.AllowRunnerScaleSetCustomLabels -State On',
        ),
      }),
    ]);
    const text = await validate(config);
    expect(text.stdout).toContain("✗ GitHub keeps the scale set's labels (linux, gpu)");
    expect(text.stdout).toContain('GHES 3.18–3.20 keeps only the scale set');

    // The flag on, and the daemon's update at its next start (done here by hand): the labels are kept.
    fake.ghes({ customLabelsFlag: true });
    const labels = ['linux', 'gpu'].map((name) => ({ type: 'System', name }));
    expect((await actions(a, 'PATCH', `_apis/runtime/runnerscalesets/${id}`, { labels })).status).toBe(200);
    const kept = await validateJson(config);
    expect(byId(kept.report, 'scale-set-labels')[0]).toMatchObject({
      status: 'ok',
      detail: 'at GitHub: linux, gpu',
    });
  });

  it('lists every schema problem, not just the first, and exits 1', async () => {
    const r = await validate({
      ...(await goodConfig()),
      'max-runners': 0,
      backend: 'kvm',
      'log-levle': 'debug',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ .*max-runners: expected an integer from 1 to 10000/);
    expect(r.stdout).toMatch(/✗ .*backend: expected one of "docker", "tart", "dedalus"/);
    expect(r.stdout).toMatch(/✗ .*log-levle/);
    expect(r.stdout).toContain('– GitHub, backend and host checks: they need a valid config');
    expect(r.stdout).toContain('3 problems found.');
  });

  it('reports every failing runtime check of a valid config at once', async () => {
    const busy = createServer();
    const port = await unusedPort();
    await listen(busy, port);
    cleanups.push(() => new Promise((resolve) => busy.close(() => resolve())));
    const config = await goodConfig({
      'runner-group': 'no-such-group',
      'runner-image': 'runner-fake:no-such-tag',
      'health-port': port,
    });
    writeFileSync(join(dir, 'not-a-dir'), '');
    config['state-dir'] = join(dir, 'not-a-dir');

    const { code, report } = await validateJson(config);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(byId(report, 'github')[0]?.status).toBe('ok');
    expect(byId(report, 'runner-group')[0]).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('Runner groups'),
    });
    expect(byId(report, 'runner-image')[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('pull-policy "never" forbids pulling it'),
      hint: expect.stringContaining('docker pull runner-fake:no-such-tag'),
    });
    expect(byId(report, 'health-port')[0]).toMatchObject({
      status: 'fail',
      detail: 'another process listens on it',
    });
    expect(byId(report, 'state-dir')[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('not a directory'),
    });
    expect(report.checks.filter((c) => c.status === 'fail')).toHaveLength(4);
  });

  it('says GitHub is unreachable, with a hint, when nothing answers at the URL', async () => {
    const closed = await unusedPort();
    const { code, report } = await validateJson(
      await goodConfig({ url: `http://127.0.0.1:${closed}/my-org` }),
    );
    expect(code).toBe(1);
    expect(byId(report, 'github')[0]).toMatchObject({
      status: 'fail',
      detail: `cannot connect to 127.0.0.1:${closed} (ECONNREFUSED)`,
      hint: 'check the host in url, DNS and the firewall. If this host needs a proxy, set HTTPS_PROXY or proxy.',
      route: expect.stringMatching(/^direct; CA: /),
    });
    expect(byId(report, 'runner-group')[0]?.status).toBe('skip');
    // The other checks still ran.
    expect(byId(report, 'docker-engine')[0]?.status).toBe('ok');
  });

  it('maps a rejected token to what it is missing', async () => {
    const bad = await validateJson(await goodConfig(), { FAKE_PAT: 'ghp_not_the_right_one' });
    expect(bad.code).toBe(1);
    expect(byId(bad.report, 'github')[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('401'),
      hint: expect.stringMatching(/token was rejected.*admin:org/),
    });
    rmSync(dir, { recursive: true, force: true });

    fake.faults.inject({
      route: 'registration-token',
      status: 403,
      times: 5,
      body: '{"message":"Resource not accessible by personal access token"}',
    });
    const repo = await validateJson(await goodConfig({ url: fake.configUrl('my-org/my-repo') }));
    expect(byId(repo.report, 'github')[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('403'),
      hint: expect.stringContaining('"Administration: read and write" on the repo'),
    });
  });

  it('checks that [docker] network exists on the engine, read-only, with the networks that do in the hint', async () => {
    const missing = `no-such-network-${process.pid}`;
    const bad = await validateJson(
      await goodConfig({ docker: { 'pull-policy': 'never', network: missing } }),
    );
    expect(bad.code).toBe(1);
    expect(byId(bad.report, 'docker-network')).toEqual([
      expect.objectContaining({
        scaleSet: 'linux',
        title: `network ${missing} exists`,
        status: 'fail',
        detail: `no network "${missing}" on the engine`,
        hint: expect.stringMatching(
          new RegExp(
            `^create it \\(docker network create ${missing}\\), or set \\[docker\\] network to one that exists: .*\\bbridge\\b`,
          ),
        ),
      }),
    ]);
    expect(bad.report.checks.filter((c) => c.status === 'fail')).toHaveLength(1);
    rmSync(dir, { recursive: true, force: true });

    const good = await validateJson(
      await goodConfig({ docker: { 'pull-policy': 'never', network: 'bridge' } }),
    );
    expect(good.code).toBe(0);
    expect(byId(good.report, 'docker-network')[0]).toMatchObject({
      status: 'ok',
      detail: 'bridge (bridge, local)',
    });
  });

  it('checks each scale set on its own', async () => {
    const config = await goodConfig({
      scaleset: [{ name: 'a' }, { name: 'b', 'runner-group': 'missing' }],
    });
    const { report } = await validateJson(config);
    const groups = byId(report, 'runner-group');
    expect(groups.map((g) => [g.scaleSet, g.status])).toEqual([
      ['a', 'ok'],
      ['b', 'fail'],
    ]);
  });

  it('says the state-dir is in use by a running daemon, naming its pid, without taking the lock', async () => {
    const config = await goodConfig();
    const stateDir = config['state-dir'] as string;
    const { child, outcome } = await LockChild.take({ stateDir, command: 'runner run' });
    cleanups.push(() => child.kill());
    expect(outcome.held).toBe(true);
    const { code, report } = await validateJson(config);
    expect(code).toBe(1);
    expect(byId(report, 'state-dir')[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`in use by pid ${child.pid} (runner run, since `),
      hint: expect.stringContaining('runner run refuses to start while another process holds its state-dir'),
    });
    // Validating took nothing: the holder still holds it, and is the only entry.
    const { inspectStateDirLock } = await import('../../src/state/state-dir-lock.js');
    expect(await inspectStateDirLock(stateDir)).toMatchObject({ state: 'held', holder: { pid: child.pid } });
  });

  it('a secret written in a config file others can read is ✗ with the chmod to run, at 0644 and 0666', async () => {
    for (const mode of [0o644, 0o666]) {
      const config = await goodConfig({ token: fake.pat, 'health-token': 'a-health-token-1234' });
      const { file, code, report } = await validateMode(config, mode);
      expect(code).toBe(1);
      expect(byId(report, 'secret-file')).toEqual([
        expect.objectContaining({
          status: 'fail',
          title: `${file} readable only by its owner: it holds secrets (token, health-token)`,
          detail: `mode 0${mode.toString(8)}: every user on this machine can read it`,
          hint: expect.stringContaining(`run: chmod 600 ${file}`),
        }),
      ]);
      expect(report.checks.filter((c) => c.status === 'fail')).toHaveLength(1);
      expect(JSON.stringify(report)).not.toContain(fake.pat);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a config whose secrets are all env: references needs no permission check; a 0600 one with secrets passes', async () => {
    const envOnly = await validateMode(await goodConfig(), 0o644);
    expect(envOnly.code).toBe(0);
    expect(byId(envOnly.report, 'secret-file')).toEqual([]);
    rmSync(dir, { recursive: true, force: true });

    const tight = await validateMode(await goodConfig({ token: fake.pat }), 0o600);
    expect(tight.code).toBe(0);
    expect(byId(tight.report, 'secret-file')).toEqual([
      expect.objectContaining({
        status: 'ok',
        title: `${tight.file} readable only by its owner: it holds secrets (token)`,
      }),
    ]);
  });

  it('a GitHub App key file open to its group is ✗ with the chmod to run', async () => {
    const config = await goodConfig();
    delete config.token;
    const key = join(dir, 'app.pem');
    writeFileSync(key, '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n', {
      mode: 0o640,
    });
    chmodSync(key, 0o640);
    config['github-app'] = { 'client-id': 'Iv1.abc', 'installation-id': 1, 'private-key-path': key };
    const { report } = await validateMode(config, 0o600);
    expect(byId(report, 'secret-file')).toEqual([
      expect.objectContaining({
        status: 'fail',
        title: `${key} readable only by its owner: it holds the GitHub App private key`,
        detail: `mode 0640: every member of its group (gid ${process.getgid?.()}) can read it`,
        hint: expect.stringContaining(`run: chmod 600 ${key}`),
      }),
    ]);
  });

  it('has --help with examples', async () => {
    const r = await runCli(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--json');
  });
});

describe('runner validate: tart and dedalus', () => {
  function setsConfig(scaleset: Record<string, unknown>[]) {
    dir = mkdtempSync(join(tmpdir(), 'runner-validate-'));
    return {
      url: fake.configUrl(),
      token: 'env:FAKE_PAT',
      'health-port': 0,
      'state-dir': join(dir, 'state'),
      scaleset,
    };
  }

  it('finds tart and a pulled image, and a missing image that pull-policy "never" cannot fetch', async () => {
    const config = setsConfig([
      { name: 'mac', backend: 'tart', 'runner-image': 'ghcr.io/acme/macos:15' },
      {
        name: 'mac-offline',
        backend: 'tart',
        'runner-image': 'ghcr.io/acme/other:1',
        tart: { 'pull-policy': 'never' },
      },
    ]);
    const home = join(dir, 'tart-home');
    mkdirSync(home);
    new FakeTart(home, join(home, '.calls.jsonl')).tart('pull', 'ghcr.io/acme/macos:15');
    const path = `${FAKE_TART_DIR}:${dirname(node24)}`;
    const { code, report } = await validateJson(config, { PATH: path, TART_HOME: home });
    expect(code).toBe(1);
    const image = (set: string) => report.checks.find((c) => c.id === 'runner-image' && c.scaleSet === set);
    expect(report.checks.find((c) => c.id === 'tart-cli')?.status).toBe('ok');
    expect(image('mac')).toMatchObject({ status: 'ok', detail: 'present' });
    expect(image('mac-offline')).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('tart pull ghcr.io/acme/other:1'),
    });
  });

  it('says tart is missing from PATH, and skips the image check that needs it', async () => {
    const config = setsConfig([{ name: 'mac', backend: 'tart', 'runner-image': 'ghcr.io/acme/macos:15' }]);
    const empty = join(dir, 'bin');
    mkdirSync(empty);
    const { code, report } = await validateJson(config, { PATH: empty });
    expect(code).toBe(1);
    expect(report.checks.find((c) => c.id === 'tart-cli')).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('brew install'),
    });
    expect(report.checks.find((c) => c.id === 'runner-image')?.status).toBe('skip');
  });

  it('tries the Dedalus key: accepted, rejected, and an API that does not answer', async () => {
    const dedalus = await startFakeDedalus();
    cleanups.push(() => dedalus.close());
    const config = setsConfig([
      { name: 'good', backend: 'dedalus', dedalus: { 'base-url': dedalus.url, 'api-key': 'env:DK_GOOD' } },
      { name: 'bad', backend: 'dedalus', dedalus: { 'base-url': dedalus.url, 'api-key': 'env:DK_BAD' } },
      {
        name: 'down',
        backend: 'dedalus',
        dedalus: { 'base-url': `http://127.0.0.1:${await unusedPort()}`, 'api-key': 'env:DK_GOOD' },
      },
    ]);
    const { code, report } = await validateJson(config, { DK_GOOD: dedalus.apiKey, DK_BAD: 'dk-wrong' });
    expect(code).toBe(1);
    const api = (set: string) => report.checks.find((c) => c.id === 'dedalus-api' && c.scaleSet === set);
    expect(api('good')?.status).toBe('ok');
    expect(api('bad')).toMatchObject({ status: 'fail', detail: expect.stringContaining('rejected (401)') });
    expect(api('down')).toMatchObject({ status: 'fail', hint: expect.stringContaining('base-url') });
    expect(dedalus.mutations()).toEqual([]);
    expect(report.checks.find((c) => c.id === 'health-port')).toMatchObject({
      status: 'ok',
      title: expect.stringContaining('off'),
    });
  });
});
