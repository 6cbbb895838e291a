import type { WaitingJobs } from '../scaler/scaler.js';

/** Jobs without a runner and why, in words, for `runner status` and the dashboard. */
export function waitingText(w: WaitingJobs): string {
  const why: Record<string, string> = {
    starting: 'runners starting',
    'max-runners': 'max-runners reached',
    budget: `the shared budget is full${w.detail ? ` (${w.detail})` : ''}`,
    'backend-capacity': `the backend is at capacity${w.detail ? ` (${w.detail})` : ''}`,
    'older-job': `an older job of ${w.detail ?? 'another shape'} goes first on the shared budget`,
    'start-backoff': 'starts back off after failures',
  };
  const jobs = w.count === 1 ? '1 job' : `${w.count} jobs`;
  return `${jobs} without a runner: ${why[w.reason ?? 'starting'] ?? w.reason}`;
}
