import type Docker from 'dockerode';
import { pollUntil } from '../../src/util/poll-until.js';
import { EngineFleet, type FleetEngine } from '../../test/support/engines/fleet.js';
import {
  EngineEvents,
  FAKE_IMAGE,
  RawDocker,
  type RawRun,
  RawRunnerEndpoint,
  removeLabelled,
} from '../lib/docker.js';
import { DockerWorld } from '../lib/docker-world.js';
import { median } from '../lib/stats.js';
import { type BurstTimes, burstOfJobs, defaultStartConcurrency } from './burst.js';
import { at } from './cold.js';

/** The burst figure's times (burst.ts) over three engines, with where the runners went. */
export interface FleetBurstRun extends BurstTimes {
  /** The engines as the daemon reached them: name and transport (unix, tls). */
  engines: { name: string; transport: string }[];
  /** Runner containers per engine (placement's spread). */
  perEngine: Record<string, number>;
  /** Median create → start event per runner container and per raw one (best concurrency, after). */
  runnerCreateToStart: number;
  rawCreateToStart: number;
  /** ms to start the fleet (not part of any figure; says what the run cost). */
  fleetStartMs: number;
}

const SCALE_SET = 'bench-fleet-burst';

/** The `[[docker.hosts]]` tables of the fleet's engines, no budgets (each uses what its engine reports). */
function hostsToml(engines: readonly FleetEngine[]): string[] {
  return engines.flatMap((e) => [
    '',
    '[[docker.hosts]]',
    `name = "${e.name}"`,
    `url = "${e.url}"`,
    ...(e.tls ? [`tls-ca = "${e.tls.ca}"`, `tls-cert = "${e.tls.cert}"`, `tls-key = "${e.tls.key}"`] : []),
  ]);
}

/**
 * Issue 15's burst over a fleet: three private engines side by side (two on unix sockets, one over
 * tcp:// with mutual TLS; no ssh engine: its transport opens a new ssh connection per call, which
 * would make the figure about sshd rather than placement). Raw: `jobs` create+starts handed out
 * round-robin over the three engines by a pool of `concurrency` workers (total), at each
 * concurrency, the best again after the runner burst. Runner: one daemon with the three engines as
 * `[[docker.hosts]]`, max-runners = jobs, start-concurrency as shipped; time = first job queued →
 * the last runner container's `start` event, read from each engine's own event stream.
 */
export async function runFleetBurst(o: {
  jobs: number;
  concurrencies: number[];
  startConcurrency?: number;
  log(s: string): void;
}): Promise<FleetBurstRun> {
  const began = performance.now();
  const fleet = await EngineFleet.start({ engines: 3, tls: 1, ssh: false, images: [FAKE_IMAGE] });
  const fleetStartMs = performance.now() - began;
  o.log(`fleet-burst: three engines up with the image in ${fleetStartMs.toFixed(0)} ms`);
  const clients: Docker[] = fleet.engines.map((e) => fleet.client(e));
  const events = await Promise.all(clients.map((c) => EngineEvents.open(c)));
  const probe = await DockerWorld.create({ scaleSet: 'bench-fleet-raw', maxRunners: 1, gate: true });
  const endpoint = await RawRunnerEndpoint.start(probe.gatedScript());
  const raws = clients.map((c) => new RawDocker(c, probe.dockerConfig, undefined, endpoint));
  const removeRaw = () => Promise.all(raws.map((r) => r.removeAll()));

  /** `jobs` create+starts, the n-th on engine n mod 3, at most `c` in flight over all engines. */
  const rawBurst = async (c: number): Promise<{ ms: number; createToStart: number }> => {
    try {
      const runs: RawRun[] = [];
      const onEngine: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < o.jobs) {
          const i = next++ % raws.length;
          const r = await raws[i]!.run();
          runs.push(r);
          onEngine.push(i);
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.jobs, c) }, worker));
      const t0 = Math.min(...runs.map((r) => r.t0));
      const starts = await Promise.all(runs.map((r, k) => events[onEngine[k]!]!.when(r.name, 'start')));
      const creates = await Promise.all(runs.map((r, k) => events[onEngine[k]!]!.when(r.name, 'create')));
      const ms = Math.max(...starts) - t0;
      o.log(`fleet-burst raw: ${o.jobs} containers over 3 engines at concurrency ${c}: ${ms.toFixed(0)} ms`);
      return { ms, createToStart: median(starts.map((s, k) => s - creates[k]!)) };
    } finally {
      await removeRaw();
    }
  };

  try {
    const rawMsByConcurrency: Record<string, number> = {};
    for (const c of o.concurrencies) rawMsByConcurrency[c] = (await rawBurst(c)).ms;
    const [best, sweepBestMs] = Object.entries(rawMsByConcurrency).sort((a, b) => a[1] - b[1])[0]!;
    const startConcurrency = o.startConcurrency ?? (await defaultStartConcurrency());
    const runner = await runnerBurst(o, fleet, clients, events, startConcurrency);
    const after = await rawBurst(Number(best));
    const rawBestMs = (sweepBestMs + after.ms) / 2;
    const rawMinMs = Math.min(sweepBestMs, after.ms);
    const run: FleetBurstRun = {
      jobs: o.jobs,
      engines: fleet.engines.map((e) => ({ name: e.name, transport: e.transport })),
      rawMsByConcurrency,
      bestConcurrency: Number(best),
      rawAfterMs: after.ms,
      rawBestMs,
      rawMinMs,
      startConcurrency,
      runnerMs: runner.runnerMs,
      jobsStartedMs: runner.jobsStartedMs,
      perEngine: runner.perEngine,
      runnerCreateToStart: runner.createToStart,
      rawCreateToStart: after.createToStart,
      ratio: runner.runnerMs / rawBestMs,
      ratioVsMin: runner.runnerMs / rawMinMs,
      fleetStartMs,
    };
    o.log(
      `fleet-burst: raw best ${rawBestMs.toFixed(0)} ms (concurrency ${best}); runner ${run.runnerMs.toFixed(0)} ms to all containers started (${run.ratio.toFixed(2)}×), spread ${JSON.stringify(run.perEngine)}`,
    );
    return run;
  } finally {
    await removeRaw().catch(() => undefined);
    await endpoint.close();
    await probe.cleanup();
    for (const e of events) e.close();
    await fleet.stop();
  }
}

async function runnerBurst(
  o: { jobs: number },
  fleet: EngineFleet,
  clients: Docker[],
  events: EngineEvents[],
  startConcurrency: number,
): Promise<{
  runnerMs: number;
  jobsStartedMs: number;
  perEngine: Record<string, number>;
  createToStart: number;
}> {
  const world = await DockerWorld.create({
    scaleSet: SCALE_SET,
    maxRunners: o.jobs,
    startConcurrency,
    gate: true,
    docker: hostsToml(fleet.engines),
  });
  const ours = () =>
    Promise.all(clients.map((c) => c.listContainers({ all: true, filters: { label: [world.label] } })));
  try {
    const { jobs, t0 } = await burstOfJobs(world, SCALE_SET, o.jobs, 'fleet burst');
    // Which engine each runner landed on, asked of the engines: its events are in that engine's stream.
    const perEngine: Record<string, number> = {};
    const engineOf = new Map<string, EngineEvents>();
    for (const [i, cs] of (await ours()).entries()) {
      perEngine[fleet.engines[i]!.name] = cs.length;
      for (const c of cs) engineOf.set((c.Names?.[0] ?? '').replace(/^\//, ''), events[i]!);
    }
    const eventsOf = (name: string) => {
      const e = engineOf.get(name);
      if (!e) throw new Error(`runner ${name} is on none of the engines`);
      return e;
    };
    const names = jobs.map((j) => j.runnerName!);
    const starts = await Promise.all(names.map((n) => eventsOf(n).when(n, 'start')));
    const creates = await Promise.all(names.map((n) => eventsOf(n).when(n, 'create')));
    const result = {
      runnerMs: Math.max(...starts) - t0,
      jobsStartedMs: Math.max(...jobs.map((j) => at(j, 'started'))) - t0,
      perEngine,
      createToStart: median(starts.map((s, i) => s - creates[i]!)),
    };
    await world.openGate();
    await world.fake.waitFor(() => jobs.every((j) => j.state === 'completed'), {
      what: 'all fleet burst jobs completed',
      timeout: 300_000,
    });
    await pollUntil(async () => (await ours()).every((cs) => cs.length === 0), {
      timeout: 300_000,
      interval: 200,
      what: 'fleet burst containers removed from every engine',
    });
    return result;
  } finally {
    await world.stopGracefully(300_000).catch(() => undefined);
    for (const c of clients) await removeLabelled(c, world.label).catch(() => undefined);
    await world.cleanup();
  }
}
