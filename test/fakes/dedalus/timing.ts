import type { DedalusTiming } from '../../../backends/dedalus/index.js';

/** Fast polling and generous bounds: tests wait on state, never on fixed sleeps. */
export const TEST_TIMING: Partial<DedalusTiming> = {
  pollInitialMs: 10,
  pollMaxMs: 50,
  watchInitialMs: 10,
  watchMaxMs: 50,
  createTimeoutMs: 10_000,
  wakeTimeoutMs: 10_000,
  sleepTimeoutMs: 10_000,
  deleteTimeoutMs: 10_000,
  provisionTimeoutMs: 20_000,
  scrubTimeoutMs: 10_000,
  onlineTimeoutMs: 10_000,
  // Maintenance runs on kicks (after each claim and release); tests that need the timer lower it.
  maintenanceIntervalMs: 60_000,
  requestTimeoutMs: 5_000,
  sleepRetryMs: 200,
  handOverMarginMs: 1_000,
};
