import { parseConfigText } from '../../src/config/index.js';
import { pollUntil } from '../../src/util/poll-until.js';
import type { FakeJob } from '../../test/fakes/actions-service/index.js';
import { type EngineEvents, RawDocker, RawRunnerEndpoint } from '../lib/docker.js';
import { DockerWorld } from '../lib/docker-world.js';
import { median } from '../lib/stats.js';
import { at, queuedAt } from './cold.js';

/** What every burst figure measures (one engine or a fleet): the raw baseline and the runner's burst. */
export interface BurstTimes {
  jobs: number;
  /** Raw: first create sent → last start event, ms, per (total) concurrency tried. */
  rawMsByConcurrency: Record<string, number>;
  bestConcurrency: number;
  /** Raw at the best concurrency again, right after the runner burst (the engine's load drifts). */
  rawAfterMs: number;
  /**
   * The baseline: the mean of the two raw bursts at the best concurrency (the sweep's and rawAfterMs).
   * Not their minimum: one engine's bursts at one concurrency vary by ±15 % from run to run here, and the
   * fastest of several noisy raw samples against a single runner sample would favour raw.
   */
  rawBestMs: number;
  /** The fastest raw sample of the run, for the conservative ratio. */
  rawMinMs: number;
  /** start-concurrency the daemon ran with. */
  startConcurrency: number;
  /** First job queued → the last runner container's start event, ms. */
  runnerMs: number;
  /** First job queued → the last JobStarted (every runner claimed its job), ms. */
  jobsStartedMs: number;
  /** runnerMs / rawBestMs; ratioVsMin = runnerMs / rawMinMs. */
  ratio: number;
  ratioVsMin: number;
}

export interface BurstRun extends BurstTimes {
  /** Raw: first create sent → last start call returned, ms, per concurrency. */
  rawReturnedMsByConcurrency: Record<string, number>;
  /** Where the runner burst's time goes (ms): see BurstLegs. */
  legs: BurstLegs;
}

export interface BurstLegs {
  /** First job queued → the daemon's first generatejitconfig request at the fake (the protocol). */
  queuedToFirstJit: number;
  /** First → last generatejitconfig request: how the starts are spread out. */
  jitSpan: number;
  /** Median create event → start event of the runner containers, and of the raw ones at the best concurrency. */
  runnerCreateToStart: number;
  rawCreateToStart: number;
  /** Median generatejitconfig request → create event of the same runner (JIT answer + create call, queued behind others). */
  jitToCreate: number;
}

const SCALE_SET = 'bench-burst';

/**
 * Starts the world's daemon, queues `count` gated jobs at once into `scaleSet` and waits until every
 * one started; t0 is the first job's queue time, where every burst is timed from.
 */
export async function burstOfJobs(
  world: DockerWorld,
  scaleSet: string,
  count: number,
  what: string,
): Promise<{ jobs: FakeJob[]; t0: number }> {
  await world.startDaemon();
  await world.listening();
  const jobs: FakeJob[] = [];
  for (let i = 0; i < count; i++) jobs.push(world.fake.queueJob({ scaleSet, script: world.gatedScript() }));
  await world.fake.waitFor(() => jobs.every((j) => j.state === 'started'), {
    what: `all ${count} ${what} jobs started`,
    timeout: 300_000,
  });
  return { jobs, t0: Math.min(...jobs.map(queuedAt)) };
}

/**
 * Figure 3: `jobs` raw create+starts at each concurrency, then `jobs` jobs
 * queued at once into a scale set with max-runners = jobs and the default start-concurrency (as a
 * user runs it; the raw side gets its best concurrency of the run). Jobs wait on a gate until every one started, so no container exits or is removed while
 * the burst is measured (raw containers do not exit either). The best raw concurrency is measured
 * again after the runner burst; the mean of its two times is the baseline (the engine's speed drifts).
 */
export async function runBurst(o: {
  jobs: number;
  concurrencies: number[];
  /** Fixed start-concurrency; default: the config's default, as shipped. */
  startConcurrency?: number;
  events: EngineEvents;
  log(s: string): void;
}): Promise<BurstRun> {
  const probe = await DockerWorld.create({ scaleSet: 'bench-raw', maxRunners: 1, gate: true });
  // Raw containers run the image's own entrypoint and get the same gated job the runners get.
  const endpoint = await RawRunnerEndpoint.start(probe.gatedScript());
  const raw = new RawDocker(probe.docker, probe.dockerConfig, undefined, endpoint);
  /** One raw burst: first create request → last start event, and → last start call returned. */
  const rawBurst = async (c: number): Promise<{ ms: number; returnedMs: number; createToStart: number }> => {
    try {
      const runs = await raw.runMany(o.jobs, c);
      const t0 = Math.min(...runs.map((r) => r.t0));
      const starts = await Promise.all(runs.map((r) => o.events.when(r.name, 'start')));
      const ms = Math.max(...starts) - t0;
      o.log(`burst raw: ${o.jobs} containers at concurrency ${c}: ${ms.toFixed(0)} ms`);
      const creates = await Promise.all(runs.map((r) => o.events.when(r.name, 'create')));
      return {
        ms,
        returnedMs: Math.max(...runs.map((r) => r.returned)) - t0,
        createToStart: median(starts.map((s, i) => s - creates[i]!)),
      };
    } finally {
      await raw.removeAll();
    }
  };
  const rawMsByConcurrency: Record<string, number> = {};
  const rawReturnedMsByConcurrency: Record<string, number> = {};
  try {
    for (const c of o.concurrencies) {
      const r = await rawBurst(c);
      rawMsByConcurrency[c] = r.ms;
      rawReturnedMsByConcurrency[c] = r.returnedMs;
    }
    const [best, sweepBestMs] = Object.entries(rawMsByConcurrency).sort((a, b) => a[1] - b[1])[0]!;
    const startConcurrency = o.startConcurrency ?? (await defaultStartConcurrency());
    const runner = await runnerBurst(o, startConcurrency);
    const after = await rawBurst(Number(best));
    const rawBestMs = (sweepBestMs + after.ms) / 2;
    const rawMinMs = Math.min(sweepBestMs, after.ms);
    const run: BurstRun = {
      jobs: o.jobs,
      rawMsByConcurrency,
      rawReturnedMsByConcurrency,
      bestConcurrency: Number(best),
      rawAfterMs: after.ms,
      rawBestMs,
      rawMinMs,
      ratioVsMin: runner.runnerMs / rawMinMs,
      startConcurrency,
      runnerMs: runner.runnerMs,
      jobsStartedMs: runner.jobsStartedMs,
      ratio: runner.runnerMs / rawBestMs,
      legs: { ...runner.legs, rawCreateToStart: after.createToStart },
    };
    o.log(
      `burst: raw best ${rawBestMs.toFixed(0)} ms (concurrency ${best}); runner ${run.runnerMs.toFixed(0)} ms to all containers started (${run.ratio.toFixed(2)}×), ${run.jobsStartedMs.toFixed(0)} ms to all jobs started`,
    );
    return run;
  } finally {
    await raw.removeAll().catch(() => undefined);
    await endpoint.close();
    await probe.cleanup();
  }
}

async function runnerBurst(
  o: { jobs: number; events: EngineEvents },
  startConcurrency: number,
): Promise<{ runnerMs: number; jobsStartedMs: number; legs: Omit<BurstLegs, 'rawCreateToStart'> }> {
  const world = await DockerWorld.create({
    scaleSet: SCALE_SET,
    maxRunners: o.jobs,
    startConcurrency,
    gate: true,
  });
  try {
    const { jobs, t0 } = await burstOfJobs(world, SCALE_SET, o.jobs, 'burst');
    const starts = await Promise.all(jobs.map((j) => o.events.when(j.runnerName!, 'start')));
    const runnerMs = Math.max(...starts) - t0;
    const jobsStartedMs = Math.max(...jobs.map((j) => at(j, 'started'))) - t0;
    const names = jobs.map((j) => j.runnerName!);
    const creates = await Promise.all(names.map((n) => o.events.when(n, 'create')));
    const jits = names.map(
      (n) =>
        world.fake.requests.find((q) => q.route === 'jit-config' && q.body.includes(`"${n}"`))?.at ??
        Number.NaN,
    );
    const allJits = world.fake.requests.filter((q) => q.route === 'jit-config').map((q) => q.at);
    const legs = {
      queuedToFirstJit: Math.min(...allJits) - t0,
      jitSpan: Math.max(...allJits) - Math.min(...allJits),
      runnerCreateToStart: median(starts.map((s, i) => s - creates[i]!)),
      jitToCreate: median(creates.map((c, i) => c - jits[i]!).filter((x) => !Number.isNaN(x))),
    };
    await world.openGate();
    await world.fake.waitFor(() => jobs.every((j) => j.state === 'completed'), {
      what: 'all burst jobs completed',
      timeout: 300_000,
    });
    await pollUntil(async () => (await world.containers()).length === 0, {
      timeout: 300_000,
      interval: 200,
      what: 'burst containers removed',
    });
    return { runnerMs, jobsStartedMs, legs };
  } finally {
    await world.stopGracefully(300_000).catch(() => undefined);
    await world.cleanup();
  }
}

/** start-concurrency as a user gets it, read from the config schema rather than repeated here. */
export async function defaultStartConcurrency(): Promise<number> {
  const config = await parseConfigText('url = "https://github.com/o"\nname = "x"\n', 'defaults.toml', {
    RUNNER_TOKEN: 'unused',
  });
  const set = config.scaleSets[0];
  if (!set) throw new Error('a config with one scale set resolved to none');
  return set.startConcurrency;
}
