import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/index.js';
import { ActionsClient } from '../../src/github/index.js';
import {
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_RUNNER_ID,
  LABEL_RUNNER_NAME,
  LABEL_SCALE_SET,
  MANAGED_BY_VALUE,
  makeRunnerName,
} from '../../src/labels.js';
import { Secret } from '../../src/secret.js';
import { ScaleSetStore } from '../../src/state/scale-set-store.js';
import { type FakeActionsService, startFakeActionsService } from '../fakes/actions-service/index.js';
import { spec, IMAGE as TART_IMAGE, tartFixture } from '../fakes/tart/fixture.js';
import { FAKE_IMAGE, removeByInstance, removeContainer, testDocker, useDocker } from '../setup/docker.js';
import { LockChild } from '../support/state-dir-lock.js';
import { cliBundle, runCli } from './support/built-cli.js';
import { unusedPort, writeConfig } from './support/config-file.js';

useDocker();

let fake: FakeActionsService;
let client: ActionsClient;
let scaleSetId: number;

beforeAll(async () => {
  await cliBundle();
  fake = await startFakeActionsService();
  client = new ActionsClient({
    configUrl: fake.configUrl(),
    auth: { kind: 'pat', token: new Secret(fake.pat) },
  });
  const set = await client.createRunnerScaleSet({ name: 'doctor-tests', runnerGroupId: 1 });
  scaleSetId = set.id ?? 0;
});
afterAll(async () => {
  await fake.close();
});

/** One daemon's world: its config, state-dir and instance id, and what the test made for it. */
interface World {
  dir: string;
  config: string;
  stateDir: string;
  instanceId: string;
  scaleSet: string;
  healthPort: number;
  foreign: string[];
}

const worlds: World[] = [];
const holders: LockChild[] = [];
afterEach(async () => {
  fake.faults.clear();
  await Promise.all(holders.splice(0).map((h) => h.kill()));
  for (const w of worlds.splice(0)) {
    await removeByInstance(w.instanceId);
    for (const name of w.foreign) await removeContainer(name);
    rmSync(w.dir, { recursive: true, force: true });
  }
});

async function world(overrides: Record<string, unknown> = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'runner-doctor-'));
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  const instanceId = `doctor-${randomBytes(6).toString('hex')}`;
  writeFileSync(join(stateDir, 'instance-id'), `${instanceId}\n`);
  const scaleSet = `linux-${randomBytes(3).toString('hex')}`;
  const healthPort = await unusedPort();
  const config = writeConfig(join(dir, 'config.toml'), {
    url: fake.configUrl(),
    name: scaleSet,
    token: 'env:FAKE_PAT',
    'runner-image': FAKE_IMAGE,
    'health-port': healthPort,
    'state-dir': stateDir,
    docker: { 'pull-policy': 'never', 'buildx-cleanup': false },
    ...overrides,
  });
  const w = { dir, config, stateDir, instanceId, scaleSet, healthPort, foreign: [] };
  worlds.push(w);
  return w;
}

/** A container as the docker backend makes them: named after the runner, with our owner labels. */
async function ourContainer(w: World, opts: { running?: boolean; runnerId?: number } = {}): Promise<string> {
  const name = makeRunnerName(w.scaleSet, w.instanceId);
  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_INSTANCE]: w.instanceId,
    [LABEL_SCALE_SET]: w.scaleSet,
    [LABEL_RUNNER_NAME]: name,
  };
  if (opts.runnerId !== undefined) labels[LABEL_RUNNER_ID] = String(opts.runnerId);
  await startContainer(name, labels, opts.running ?? false);
  return name;
}

/** Someone else's: no labels, or our labels with another daemon's instance id. */
async function foreignContainer(w: World, labels: Record<string, string>): Promise<string> {
  const name = `foreign-${randomBytes(4).toString('hex')}`;
  w.foreign.push(name);
  await startContainer(name, labels, false);
  return name;
}

async function startContainer(name: string, labels: Record<string, string>, running: boolean): Promise<void> {
  const c = await testDocker.createContainer({
    name,
    Image: FAKE_IMAGE,
    Cmd: running ? ['sleep', '600'] : ['sh', '-c', 'exit 3'],
    Labels: labels,
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  if (!running) await c.wait();
}

async function exists(name: string): Promise<boolean> {
  try {
    await testDocker.getContainer(name).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** A registration at GitHub (the fake), recorded in the daemon's state file, with no resource behind it. */
async function orphanRegistration(
  w: World,
  opts: { idRecorded?: boolean; ageMs?: number } = {},
): Promise<{ name: string; id: number }> {
  const name = makeRunnerName(w.scaleSet, w.instanceId);
  const jit = await client.generateJitRunnerConfig({ name, workFolder: '_work' }, scaleSetId);
  const store = await ScaleSetStore.open(w.stateDir, w.scaleSet, (err) => {
    throw err;
  });
  const createdAt = new Date(Date.now() - (opts.ageMs ?? 3_600_000)).toISOString();
  // The scaler records the name before the JIT call returns an id: a crash in between leaves no id.
  store.put(name, opts.idRecorded === false ? { createdAt } : { runnerId: jit.runner.id, createdAt });
  await store.flush();
  return { name, id: jit.runner.id };
}

function doctor(w: World, args: string[] = []) {
  return runCli(['doctor', '--config', w.config, ...args], {
    env: { ...process.env, NO_COLOR: '1', FAKE_PAT: fake.pat },
  });
}

async function doctorJson(w: World, args: string[] = []) {
  const r = await doctor(w, [...args, '--json']);
  expect(r.stderr).toBe('');
  return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport };
}

/** A process holding the world's state-dir lock, as a running `runner run` does. */
async function holdLock(w: World, command = 'runner run'): Promise<LockChild> {
  const { child, outcome } = await LockChild.take({ stateDir: w.stateDir, command });
  holders.push(child);
  expect(outcome.held).toBe(true);
  return child;
}

/** A stand-in for a daemon's health server on the configured port: answers every request with `status`. */
async function fakeHealthServer(port: number, status: number): Promise<Server> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

describe('runner doctor (built CLI, real Docker, fake GitHub)', () => {
  it('lists only what carries our ownership marks, plus registrations whose resource is gone', async () => {
    const w = await world();
    const exited = await ourContainer(w);
    const unlabelled = await foreignContainer(w, {});
    const otherDaemon = await foreignContainer(w, {
      [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
      [LABEL_INSTANCE]: 'someone-else-1234',
      [LABEL_SCALE_SET]: w.scaleSet,
      [LABEL_RUNNER_NAME]: 'x',
    });
    const orphan = await orphanRegistration(w);

    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('daemon: not running');
    expect(r.stdout).toMatch(new RegExp(`✗ exited container ${exited} .*never removed`));
    expect(r.stdout).toContain(
      `✗ runner ${orphan.name} registered at GitHub, runner id ${orphan.id}, but its container is gone`,
    );
    expect(r.stdout).not.toContain(unlabelled);
    expect(r.stdout).not.toContain(otherDaemon);
    expect(r.stdout).toContain('Message sessions at GitHub cannot be listed');
    expect(r.stdout).toContain('2 left over');
    expect(r.stdout).not.toContain('Nothing left over');
    // Listing changes nothing.
    expect(await exists(exited)).toBe(true);
    expect(fake.runners().some((x) => x.id === orphan.id)).toBe(true);
  });

  it('--fix removes ours (container and registration), leaves the foreign ones, and the next run is clean', async () => {
    const w = await world();
    const reg = await client.generateJitRunnerConfig(
      { name: makeRunnerName(w.scaleSet, w.instanceId), workFolder: '_work' },
      scaleSetId,
    );
    // The container of that registration, as the backend labels it, already exited.
    const exited = reg.runner.name ?? '';
    await startContainer(
      exited,
      {
        [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
        [LABEL_INSTANCE]: w.instanceId,
        [LABEL_SCALE_SET]: w.scaleSet,
        [LABEL_RUNNER_NAME]: exited,
        [LABEL_RUNNER_ID]: String(reg.runner.id),
      },
      false,
    );
    const running = await ourContainer(w, { running: true });
    const foreign = await foreignContainer(w, {});
    const orphan = await orphanRegistration(w);

    const { code, report } = await doctorJson(w, ['--fix']);
    expect(report.refused).toBeUndefined();
    expect(report.fixed?.map((f) => [f.finding.name, f.finding.kind, f.result]).sort()).toEqual(
      [
        [exited, 'exited', 'removed'],
        [running, 'unmanaged', 'removed'],
        [orphan.name, 'registration', 'removed'],
      ].sort(),
    );
    expect(code).toBe(0);
    expect(await exists(exited)).toBe(false);
    expect(await exists(running)).toBe(false);
    expect(await exists(foreign)).toBe(true);
    const ids = fake.runners().map((x) => x.id);
    expect(ids).not.toContain(reg.runner.id);
    expect(ids).not.toContain(orphan.id);

    const again = await doctor(w);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing left over.');
  });

  it('--fix refuses while a daemon holds the state-dir lock, naming its pid, whatever health-port says', async () => {
    const w = await world({ 'health-port': 0 });
    const exited = await ourContainer(w);
    const running = await ourContainer(w, { running: true });
    const daemon = await holdLock(w);
    const r = await doctor(w, ['--fix', '--force']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`daemon: running — pid ${daemon.pid} (runner run, since `);
    expect(r.stdout).toContain(`refusing to --fix: pid ${daemon.pid} (runner run, since `);
    expect(r.stdout).toContain('Stop it first');
    expect(r.stdout).not.toContain('Fixing:');
    // The running container belongs to the live daemon: counted, not reported; the exited one is.
    expect(r.stdout).toContain('1 runner(s) in use by the running daemon');
    expect(r.stdout).toContain(exited);
    expect(r.stdout).not.toContain(running);
    expect(await exists(exited)).toBe(true);
    expect(await exists(running)).toBe(true);
  });

  it('--fix refuses while another doctor --fix holds the lock, and says to wait for it', async () => {
    const w = await world();
    const exited = await ourContainer(w);
    const other = await holdLock(w, 'runner doctor --fix');
    const r = await doctor(w, ['--fix']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`refusing to --fix: pid ${other.pid} (runner doctor --fix, since `);
    expect(r.stdout).toContain('Wait for it to finish');
    expect(await exists(exited)).toBe(true);
  });

  it('a free lock but an answer on the health port (a daemon from before the lock) refuses --fix unless --force', async () => {
    const w = await world();
    const exited = await ourContainer(w);
    const health = await fakeHealthServer(w.healthPort, 503);
    try {
      const r = await doctor(w, ['--fix']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('daemon: unknown — no daemon holds the state-dir lock');
      expect(r.stdout).toContain(`but something answers at http://127.0.0.1:${w.healthPort} (/readyz 503)`);
      expect(r.stdout).toContain('then run doctor --fix --force');
      expect(await exists(exited)).toBe(true);
      const forced = await doctor(w, ['--fix', '--force']);
      expect(forced.code).toBe(0);
      expect(await exists(exited)).toBe(false);
    } finally {
      await new Promise((resolve) => health.close(resolve));
    }
  });

  it('--fix reports a failed removal, exits 1 and never claims to be clean', async () => {
    const w = await world();
    // Found by name (route "agents"), so the fault on "agent" hits only the DELETE.
    const orphan = await orphanRegistration(w, { idRecorded: false });
    const exited = await ourContainer(w);
    fake.faults.inject({ route: 'agent', status: 500, times: 20 });

    const r = await doctor(w, ['--fix', '--timeout', '10']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`✗ runner ${orphan.name} registered at GitHub.*: .*500`));
    expect(r.stdout).toMatch(new RegExp(`✓ exited container ${exited}`));
    expect(r.stdout).toContain('Not clean: removed 1 of 2, 1 failed');
    expect(r.stdout).not.toMatch(/Nothing left over|Removed \d+ of \d+\./);
    expect(fake.runners().some((x) => x.id === orphan.id)).toBe(true);
    expect(await exists(exited)).toBe(false);
  });

  it('does not call a scale set clean when GitHub could not be asked about it', async () => {
    const w = await world();
    await orphanRegistration(w);
    fake.faults.inject({ route: 'agent', status: 500, times: 20 });
    const r = await doctor(w);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ cannot check registration .* at GitHub: .*500/);
    expect(r.stdout).toContain('1 could not be checked');
    expect(r.stdout).not.toContain('nothing left over');
  });

  it('with health-port = 0 and no daemon, the lock says none runs: --fix goes ahead without --force', async () => {
    const w = await world({ 'health-port': 0 });
    const exited = await ourContainer(w);
    const r = await doctor(w, ['--fix']);
    expect(r.stdout).toContain('daemon: not running — no daemon holds the state-dir lock');
    expect(r.code).toBe(0);
    expect(await exists(exited)).toBe(false);
  });

  it('with no daemon, a registration recorded a minute ago is a leftover like any other (no in-flight grace)', async () => {
    const w = await world({ 'health-port': 0 });
    const orphan = await orphanRegistration(w, { ageMs: 60_000 });
    const listed = await doctor(w);
    expect(listed.code).toBe(1);
    expect(listed.stdout).toContain(`✗ runner ${orphan.name} registered at GitHub, runner id ${orphan.id}`);
    expect(listed.stdout).not.toContain('Nothing left over');

    const fixed = await doctor(w, ['--fix', '--force']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('Removed 1 of 1.');
    expect(fake.runners().some((x) => x.id === orphan.id)).toBe(false);
  });

  it('while a daemon runs, a registration recorded a minute ago is skipped as in flight, and doctor says so', async () => {
    const w = await world({ 'health-port': 0 });
    const orphan = await orphanRegistration(w, { ageMs: 60_000 });
    await holdLock(w);
    const { code, report } = await doctorJson(w);
    expect(report.daemon.state).toBe('running');
    expect(report.scaleSets[0]?.skipped.map((k) => k.name)).toEqual([orphan.name]);
    // The running daemon's start in flight is its own business: not a problem, but never hidden.
    expect(code).toBe(0);
    const r = await doctor(w);
    expect(r.stdout).toMatch(
      new RegExp(
        `– runner ${orphan.name} not checked: recorded \\d+s ago with no container yet: may be a start in flight of the running daemon`,
      ),
    );
    expect(r.stdout).toContain(
      'Nothing left over among what was checked; 1 not checked (the – lines above).',
    );
    expect(r.stdout).not.toContain('Nothing left over.');
    expect(fake.runners().some((x) => x.id === orphan.id)).toBe(true);
  });

  it('says nothing can be ours when the state-dir has no instance id', async () => {
    const w = await world();
    rmSync(join(w.stateDir, 'instance-id'));
    const r = await doctor(w);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no instance-id in');
  });

  it('looks at every backend of the config: a Tart VM left running is found and removed too', async () => {
    const fx = tartFixture();
    try {
      const w = await world();
      const mac = `${w.scaleSet}-mac`;
      writeConfig(w.config, {
        url: fake.configUrl(),
        token: 'env:FAKE_PAT',
        'health-port': w.healthPort,
        'state-dir': w.stateDir,
        scaleset: [
          { name: w.scaleSet, 'runner-image': FAKE_IMAGE, docker: { 'pull-policy': 'never' } },
          {
            name: mac,
            backend: 'tart',
            'runner-image': TART_IMAGE,
            tart: { home: fx.tart.home, 'runner-dir': fx.runnerDir },
          },
        ],
      });
      // A daemon's tart backend starts a runner VM and stops without removing it (as a crash would).
      const backend = fx.backend({
        scaleSet: mac,
        instanceId: w.instanceId,
        stateDir: join(w.stateDir, 'backends', 'tart'),
      });
      const vm = makeRunnerName(mac, w.instanceId);
      await backend.start(spec(vm, 'jit-left-behind', 999_999), AbortSignal.timeout(30_000));
      await fx.runnerStarted('jit-left-behind');
      await backend.close();
      const container = await ourContainer(w);

      const listed = await doctorJson(w);
      expect(listed.code).toBe(1);
      const kinds = listed.report.scaleSets.map((x) => [x.scaleSet, x.findings.map((f) => [f.name, f.kind])]);
      expect(kinds).toEqual([
        [w.scaleSet, [[container, 'exited']]],
        [mac, [[vm, 'unmanaged']]],
      ]);

      const fixed = await doctor(w, ['--fix']);
      expect(fixed.code).toBe(0);
      expect(fixed.stdout).toMatch(new RegExp(`✓ running VM ${vm} .*tart resource removed`));
      expect(fx.tart.vms().map((v) => v.name)).not.toContain(vm);
      expect(await exists(container)).toBe(false);
    } finally {
      await fx.cleanup();
    }
  });

  it('has --help with examples', async () => {
    const r = await runCli(['doctor', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--fix');
  });
});
