import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/util/poll-until.js';
import { FAKE_IMAGE } from '../setup/docker.js';
import type { FleetEngine } from '../support/engines/fleet.js';
import { useEngineFleet } from '../support/engines/use-fleet.js';
import type { DaemonProcess } from './support/daemon-process.js';
import { type E2eEnv, SCALE_SET, stopGracefully, useE2e } from './support/e2e-env.js';
import { hostsToml, onEngine, runningOn } from './support/fleet-hosts.js';

/**
 * Cordon and drain, and the hosts seen from outside (issue 15): `runner run` with one scale set on two
 * engines of the test's own (unix socket, mutual TLS), `runner hosts` against it, jobs from the fake
 * Actions service.
 */
const setup = useE2e();
const fleetOf = useEngineFleet({ engines: 2, ssh: false, images: [FAKE_IMAGE] });
const TOKEN = 'hosts-e2e-health-token';

interface HostJson {
  name: string;
  state: string;
  cordoned: boolean;
  used: { count: number };
  budget: { count: number | string };
}

/** `runner hosts --json`, parsed. */
async function hostsJson(env: E2eEnv): Promise<HostJson[]> {
  const r = await env.cli(['hosts', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { hosts: HostJson[] }).hosts;
}

async function metrics(env: E2eEnv): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${env.healthPort}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** The hosts named by the "job completed" lines of `d` so far, in order. */
function jobHosts(d: DaemonProcess): unknown[] {
  return d.lines.filter((l) => l.json?.msg === 'job completed').map((l) => l.json?.host);
}

describe('runner hosts on a fleet of two engines', () => {
  it('cordon while busy: the busy runner finishes, nothing new lands there, the cordon survives a restart, uncordon lets placements return; a dead engine shows as runner_host_up 0', async () => {
    const engines = fleetOf().engines as [FleetEngine, FleetEngine];
    const env = await setup({
      maxRunners: 4,
      gate: true,
      top: `health-token = "${TOKEN}"`,
      docker: hostsToml(engines, ['max-runners = 3']),
    });
    env.onCleanup(async () => {
      for (const e of engines) {
        if (!e.engine.running) await e.engine.revive();
        for (const c of await onEngine(env, e))
          await e.engine.docker.getContainer(c.Id).remove({ force: true });
      }
    });
    let d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, { what: 'session', timeout: 30_000 });

    // Both hosts listed, up, with their cap.
    await pollUntil(async () => (await hostsJson(env)).every((h) => h.state === 'up') || undefined, {
      timeout: 30_000,
      interval: 250,
      what: 'both hosts up in runner hosts --json',
    });
    const listed = await hostsJson(env);
    expect(listed.map((h) => [h.name, h.cordoned, h.budget.count])).toEqual([
      ['engine-0', false, 3],
      ['engine-1', false, 3],
    ]);

    // One busy job; the host it runs on is cordoned under it.
    const started = () => env.fake.jobs().filter((j) => j.state === 'started');
    env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    await env.fake.waitFor(() => started().length === 1, { what: 'one job running', timeout: 60_000 });
    const busyHost = (await hostsJson(env)).find((h) => h.used.count === 1);
    expect(busyHost, 'the host of the busy runner').toBeDefined();
    const [cordoned, other] = (busyHost?.name === 'engine-0' ? engines : [...engines].reverse()) as [
      FleetEngine,
      FleetEngine,
    ];

    // The mutating route wants the token; the CLI sends the config's.
    const bare = await fetch(`http://127.0.0.1:${env.healthPort}/api/hosts/${cordoned.name}/cordon`, {
      method: 'POST',
    });
    expect(bare.status).toBe(401);
    const unknown = await env.cli(['hosts', 'cordon', 'build-9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no host "build-9"; the hosts are: engine-0, engine-1');
    const cordon = await env.cli(['hosts', 'cordon', cordoned.name]);
    expect(cordon.stderr).toBe('');
    expect(cordon.stdout).toContain(
      `${cordoned.name} cordoned: no new runners there; 1 runner on it finishes`,
    );
    const table = await env.cli(['hosts']);
    expect(table.stdout).toMatch(new RegExp(`${cordoned.name}\\s+up\\s+cordoned\\s+1/3`));
    expect(await metrics(env)).toContain(`runner_host_cordoned{host="${cordoned.name}"} 1`);

    // Two more jobs: both land on the other host, though the cordoned one has room.
    for (let i = 0; i < 2; i++) env.fake.queueJob({ scaleSet: SCALE_SET, script: env.gatedScript() });
    await env.fake.waitFor(() => started().length === 3, { what: 'three jobs running', timeout: 60_000 });
    const [onCordoned, onOther] = await runningOn(env, [cordoned, other], 3);
    expect(onCordoned).toHaveLength(1);
    expect(onOther).toHaveLength(2);
    expect((await hostsJson(env)).map((h) => [h.name, h.cordoned, h.used.count])).toEqual(
      engines.map((e) => [e.name, e === cordoned, e === cordoned ? 1 : 2]),
    );

    // The busy runner on the cordoned host runs its job to the end.
    await env.openGate();
    await env.fake.waitFor(
      () => env.fake.jobs().length === 3 && env.fake.jobs().every((j) => j.result === 'succeeded'),
      { what: 'three jobs succeeded', timeout: 60_000 },
    );
    await d.waitForLog(() => jobHosts(d).length === 3, { what: 'three job lines', timeout: 30_000 });
    // Each job's telemetry line names its host.
    expect([...jobHosts(d)].sort()).toEqual([cordoned.name, other.name, other.name].sort());

    // A restart keeps the cordon: new jobs still go to the other host only.
    await stopGracefully(d);
    d = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, {
      what: 'session again',
      timeout: 30_000,
    });
    expect((await hostsJson(env)).find((h) => h.name === cordoned.name)?.cordoned).toBe(true);
    for (let i = 0; i < 3; i++) env.fake.queueJob({ scaleSet: SCALE_SET });
    await d.waitForLog(() => jobHosts(d).length === 3, {
      what: 'three jobs after the restart',
      timeout: 60_000,
    });
    expect(jobHosts(d)).toEqual([other.name, other.name, other.name]);

    // Uncordoned, the host takes runners again.
    const uncordon = await env.cli(['hosts', 'uncordon', cordoned.name]);
    expect(uncordon.stdout).toContain(`${cordoned.name} uncordoned`);
    expect((await hostsJson(env)).every((h) => !h.cordoned)).toBe(true);
    for (let i = 0; i < 4; i++) env.fake.queueJob({ scaleSet: SCALE_SET });
    await d.waitForLog((l) => l.json?.msg === 'job completed' && l.json.host === cordoned.name, {
      what: `a job on ${cordoned.name} again`,
      timeout: 60_000,
    });

    // An engine that dies shows as down in the metrics, and up again once it is back.
    await engines[1].engine.kill();
    await pollUntil(
      async () => (await metrics(env)).includes('runner_host_up{host="engine-1"} 0') || undefined,
      {
        timeout: 60_000,
        interval: 250,
        what: 'runner_host_up 0 for the dead engine',
      },
    );
    expect(await metrics(env)).toContain('runner_host_up{host="engine-0"} 1');
    const down = (await hostsJson(env)).find((h) => h.name === 'engine-1');
    expect(down?.state).toBe('down');
    await engines[1].engine.revive();
    await pollUntil(
      async () => (await metrics(env)).includes('runner_host_up{host="engine-1"} 1') || undefined,
      {
        timeout: 90_000,
        interval: 250,
        what: 'runner_host_up 1 once the engine is back',
      },
    );

    await env.fake.waitFor(() => env.fake.jobs().every((j) => j.state === 'completed'), {
      what: 'every job completed',
      timeout: 60_000,
    });
    await stopGracefully(d);
    await env.expectNothingLeft({ sessions: true });
    for (const e of engines) expect(await onEngine(env, e)).toEqual([]);
  }, 400_000);
});
