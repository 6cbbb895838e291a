import type { JobCompleted, JobStarted, RunnerScaleSetStatistic } from '../github/types.js';

/**
 * Hooks the listener and scaler call as things happen. The Prometheus implementation lives in
 * src/health/metrics.ts; everything else gets `nullRecorder`, so the core never imports prom-client.
 */
export interface Recorder {
  statistics(scaleSet: string, stats: RunnerScaleSetStatistic): void;
  desiredRunners(scaleSet: string, count: number): void;
  jobStarted(scaleSet: string, job: JobStarted): void;
  jobCompleted(scaleSet: string, job: JobCompleted): void;
  /** A long poll returned 200 or 202. */
  pollSucceeded(scaleSet: string): void;
  reconnect(scaleSet: string, reason: string): void;
  runnerStarted(scaleSet: string, backend: string, tier: 'cold' | 'warm' | 'woken', durationMs: number): void;
  runnerStartFailed(scaleSet: string, backend: string, reason: string): void;
  adopted(scaleSet: string, count: number): void;
  cleanedUp(
    scaleSet: string,
    kind: 'container' | 'registration' | 'session' | 'vm' | 'machine',
    count: number,
  ): void;
}

export const nullRecorder: Recorder = {
  statistics() {},
  desiredRunners() {},
  jobStarted() {},
  jobCompleted() {},
  pollSucceeded() {},
  reconnect() {},
  runnerStarted() {},
  runnerStartFailed() {},
  adopted() {},
  cleanedUp() {},
};

/** Fans one event out to several recorders (metrics + job telemetry + status). */
export function fanOut(...recorders: Recorder[]): Recorder {
  const out = {} as Recorder;
  for (const key of Object.keys(nullRecorder) as (keyof Recorder)[]) {
    (out as unknown as Record<string, (...args: unknown[]) => void>)[key] = (...args: unknown[]) => {
      for (const r of recorders) (r[key] as (...a: unknown[]) => void)(...args);
    };
  }
  return out;
}
