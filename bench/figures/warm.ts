import { pollUntil } from '../../src/util/poll-until.js';
import { DockerWorld } from '../lib/docker-world.js';
import { median, percentile } from '../lib/stats.js';
import { at, queuedAt } from './cold.js';

export interface WarmRun {
  samples: number;
  /** Job queued → JobStarted on the runner that was idle and claiming, ms. */
  pickupMs: number[];
  pickupP50: number;
  pickupP95: number;
  /** Medians, ms: job queued → the daemon's acquirejobs request reaches the fake (poll wake-up, ack). */
  queuedToAcquire: number;
  /** acquirejobs request → JobStarted (the fake assigns the job and the held claim takes it). */
  acquireToStarted: number;
}

const SCALE_SET = 'bench-warm';

/**
 * Figure 2: min-runners 1. Before each sample the one idle runner is claiming (its claim is a long
 * request the fake holds, so the claim interval is ~0); the job is queued and timed until the fake
 * hands it to that runner. The first sample is a warm-up.
 */
export async function runWarm(o: { samples: number; log(s: string): void }): Promise<WarmRun> {
  const world = await DockerWorld.create({ scaleSet: SCALE_SET, minRunners: 1, maxRunners: 4 });
  try {
    await world.startDaemon();
    await world.listening();
    const pickupMs: number[] = [];
    const toAcquire: number[] = [];
    const acquireToStarted: number[] = [];
    for (let i = 0; i <= o.samples; i++) {
      // The pool is back to exactly one idle, claiming runner, and the extra runner the last job made
      // the daemon start (target = min + assigned) is gone, so it does not compete for the engine.
      await world.fake.waitFor(
        () => {
          const rs = world.fake.runners();
          return rs.length === 1 && rs[0]!.status === 'idle';
        },
        { what: 'one idle runner claiming', timeout: 60_000 },
      );
      await pollUntil(async () => (await world.containers()).length === 1, {
        timeout: 60_000,
        interval: 50,
        what: 'exactly one runner container',
      });
      const idle = world.fake.runners()[0]!.name;
      const job = world.fake.queueJob({ scaleSet: SCALE_SET, script: 'true' });
      await world.fake.waitFor(() => job.state === 'completed', {
        what: 'warm job completed',
        timeout: 60_000,
      });
      if (job.runnerName !== idle) throw new Error(`warm job ran on ${job.runnerName}, not the idle ${idle}`);
      if (i === 0) continue;
      pickupMs.push(at(job, 'started') - queuedAt(job));
      const acquire = world.fake.requests.find(
        (q) => q.route === 'acquire-jobs' && q.at >= queuedAt(job) && q.body.includes(String(job.requestId)),
      );
      if (acquire) {
        toAcquire.push(acquire.at - queuedAt(job));
        acquireToStarted.push(at(job, 'started') - acquire.at);
      }
    }
    const run: WarmRun = {
      samples: o.samples,
      pickupMs,
      pickupP50: percentile(pickupMs, 50),
      pickupP95: percentile(pickupMs, 95),
      queuedToAcquire: median(toAcquire),
      acquireToStarted: median(acquireToStarted),
    };
    o.log(`warm: pickup p50 ${run.pickupP50.toFixed(1)} ms, p95 ${run.pickupP95.toFixed(1)} ms`);
    return run;
  } finally {
    await world.stopGracefully().catch(() => undefined);
    await world.cleanup();
  }
}
