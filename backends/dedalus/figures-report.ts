import type { DedalusContext } from './context.js';
import { estimateCost, type HoldEnd, type JobFigures, usageCost } from './figures.js';

/** How long the hold window kept the machine awake after the job, and how that ended. */
export interface HoldFigures {
  seconds: number;
  end: HoldEnd;
}

/**
 * Completes a job's figures (awake from `awakeFrom` until `end`, both on the context's clock), logs
 * them as "dedalus job figures", keeps them for metrics(), and asks the usage API in the background.
 */
export function reportFigures(
  c: DedalusContext,
  f: JobFigures,
  awakeFrom: number,
  end: number,
  hold?: HoldFigures,
): void {
  const { vcpu, memoryMib } = c.cfg;
  f.endedAt ??= new Date(end).toISOString();
  f.awakeSeconds = tenths(Math.max(0, end - awakeFrom) / 1000);
  f.estimatedCostUsd = estimateCost(f.awakeSeconds, vcpu, memoryMib);
  if (hold) {
    f.holdWindowSeconds = tenths(hold.seconds);
    f.holdWindowCostUsd = estimateCost(f.holdWindowSeconds, vcpu, memoryMib);
    f.holdWindowEnd = hold.end;
  }
  c.figures.add(f);
  c.log.info({ ...f }, 'dedalus job figures');
  const since = Date.parse(f.claimedAt);
  const usage = c.client.usage
    .compute(
      { machineId: f.machineId, periodStart: f.claimedAt.slice(0, 10), granularity: 'hour' },
      AbortSignal.any([AbortSignal.timeout(10_000), c.closing]),
    )
    .then((rows) => {
      const touched = rows.filter((r) => !r.bucket_end || Date.parse(r.bucket_end) > since);
      f.usage = usageCost(touched);
      c.log.debug({ runner: f.runner, usage: f.usage }, 'dedalus usage for the job');
    })
    .catch((err: unknown) => c.log.debug({ err }, 'usage API unavailable; keeping the estimate'));
  c.track(usage);
}

function tenths(n: number): number {
  return Math.round(n * 10) / 10;
}
