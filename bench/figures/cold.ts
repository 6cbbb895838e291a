import type { FakeJob } from '../../test/fakes/actions-service/index.js';
import { type EngineEvents, RawDocker } from '../lib/docker.js';
import { DockerWorld } from '../lib/docker-world.js';
import { median, percentile } from '../lib/stats.js';

export interface ColdRun {
  samples: number;
  /** Raw create+start: request sent → engine's start event, ms. */
  rawMs: number[];
  /** Raw create+start: request sent → start call returned (what `docker run -d` waits for), ms. */
  rawReturnedMs: number[];
  /** Job queued at the fake → the engine's start event of the runner container that took it, ms. */
  pickupMs: number[];
  /** Job queued → JobStarted (the runner inside the container claimed it), ms. */
  jobStartedMs: number[];
  rawP50: number;
  rawP95: number;
  pickupP50: number;
  pickupP95: number;
  jobStartedP50: number;
  jobStartedP95: number;
  /** pickupP50 − rawP50: what runner adds over Docker itself. */
  overheadP50: number;
  /** Where a pickup's time goes (medians, ms): see ColdBreakdown. */
  breakdown: ColdBreakdown;
}

/** Medians (ms) of the legs of a cold pickup, and of the raw run, from the fake's and the engine's clocks. */
export interface ColdBreakdown {
  /** Job queued → the daemon's generatejitconfig request reaches the fake (messages, ack, acquire, scaler). */
  queuedToJit: number;
  /** generatejitconfig request → the engine's create event (JIT answer, then the create call). */
  jitToCreate: number;
  /** Runner container: create event → start event. */
  createToStart: number;
  /** Raw: create request sent → create event. */
  rawToCreate: number;
  /** Raw: create event → start event. */
  rawCreateToStart: number;
}

const SCALE_SET = 'bench-cold';

/**
 * Figure 1: one job at a time into an empty scale set (min-runners 0), alternating with a raw
 * create+start of the same image, so both see the same engine state. The first of each is a warm-up.
 */
export async function runCold(o: {
  samples: number;
  events: EngineEvents;
  log(s: string): void;
}): Promise<ColdRun> {
  const world = await DockerWorld.create({ scaleSet: SCALE_SET, maxRunners: 4 });
  const raw = new RawDocker(world.docker, world.dockerConfig);
  try {
    await world.startDaemon();
    await world.listening();
    const rawMs: number[] = [];
    const rawReturnedMs: number[] = [];
    const pickupMs: number[] = [];
    const jobStartedMs: number[] = [];
    const legs = { queuedToJit: [] as number[], jitToCreate: [] as number[], createToStart: [] as number[] };
    const rawLegs = { rawToCreate: [] as number[], rawCreateToStart: [] as number[] };
    for (let i = 0; i <= o.samples; i++) {
      const r = await raw.run();
      const rawStart = await o.events.when(r.name, 'start');
      const rawCreate = await o.events.when(r.name, 'create');
      await raw.removeAll();

      const job = world.fake.queueJob({ scaleSet: SCALE_SET, script: 'true' });
      await world.fake.waitFor(() => job.state === 'completed', {
        what: 'cold job completed',
        timeout: 60_000,
      });
      const name = job.runnerName!;
      const containerStart = await o.events.when(name, 'start');
      const containerCreate = await o.events.when(name, 'create');
      const jit = world.fake.requests.find((q) => q.route === 'jit-config' && q.body.includes(`"${name}"`));
      // Quiet before the next sample: the container removed and the registration gone.
      await o.events.when(name, 'destroy');
      await world.fake.waitFor(() => world.fake.runners().length === 0, { what: 'no registrations' });
      if (i === 0) continue;
      rawMs.push(rawStart - r.t0);
      rawReturnedMs.push(r.returned - r.t0);
      pickupMs.push(containerStart - queuedAt(job));
      jobStartedMs.push(at(job, 'started') - queuedAt(job));
      rawLegs.rawToCreate.push(rawCreate - r.t0);
      rawLegs.rawCreateToStart.push(rawStart - rawCreate);
      if (jit) {
        legs.queuedToJit.push(jit.at - queuedAt(job));
        legs.jitToCreate.push(containerCreate - jit.at);
      }
      legs.createToStart.push(containerStart - containerCreate);
    }
    const run: ColdRun = {
      samples: o.samples,
      rawMs,
      rawReturnedMs,
      pickupMs,
      jobStartedMs,
      rawP50: percentile(rawMs, 50),
      rawP95: percentile(rawMs, 95),
      pickupP50: percentile(pickupMs, 50),
      pickupP95: percentile(pickupMs, 95),
      jobStartedP50: percentile(jobStartedMs, 50),
      jobStartedP95: percentile(jobStartedMs, 95),
      overheadP50: percentile(pickupMs, 50) - percentile(rawMs, 50),
      breakdown: {
        queuedToJit: median(legs.queuedToJit),
        jitToCreate: median(legs.jitToCreate),
        createToStart: median(legs.createToStart),
        rawToCreate: median(rawLegs.rawToCreate),
        rawCreateToStart: median(rawLegs.rawCreateToStart),
      },
    };
    o.log(
      `cold: raw p50 ${run.rawP50.toFixed(0)} ms, pickup p50 ${run.pickupP50.toFixed(0)} ms (p95 ${run.pickupP95.toFixed(0)}), overhead ${run.overheadP50.toFixed(0)} ms; job started p50 ${run.jobStartedP50.toFixed(0)} ms`,
    );
    return run;
  } finally {
    await world.stopGracefully().catch(() => undefined);
    await raw.removeAll().catch(() => undefined);
    await world.cleanup();
  }
}

export function queuedAt(job: FakeJob): number {
  return job.history[0]!.at;
}

/** When the job entered `state` (the first time), from the fake's history. */
export function at(job: FakeJob, state: FakeJob['state']): number {
  const h = job.history.find((x) => x.state === state);
  if (!h) throw new Error(`job ${job.requestId} never reached ${state}`);
  return h.at;
}
