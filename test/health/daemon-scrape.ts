import { expect } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { DaemonStatus, ScaleSetStatus } from '../../src/health/status-types.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { type Exposition, parseExposition, select } from './prom-text.js';

/** The sum of every sample of `name` whose labels include `labels`. */
export function total(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return select(e, name, labels).reduce((a, s) => a + s.value, 0);
}

/** A scale set's status counters as the metrics count them: the same events feed both. */
export function countersFromMetrics(e: Exposition, scaleSet: string): ScaleSetStatus['counters'] {
  const set = { scale_set: scaleSet };
  const name = { name: scaleSet };
  return {
    jobsStarted: total(e, 'gha_started_jobs_total', name),
    jobsCompleted: total(e, 'gha_completed_jobs_total', name),
    runnersStarted: total(e, 'runner_start_duration_seconds_count', set),
    startFailures: total(e, 'runner_start_failures_total', set),
    reconnects: total(e, 'runner_listener_reconnects_total', set),
    adopted: total(e, 'runner_adopted_total', set),
    cleanedUp: total(e, 'runner_cleaned_up_total', set),
    undecodableMessages: total(e, 'runner_undecodable_messages_total', { ...set, kind: 'message' }),
    invalidJobMessages: total(e, 'runner_undecodable_messages_total', { ...set, kind: 'job-message' }),
  };
}

/**
 * A scrape of the daemon's /metrics taken between two status snapshots with the same counters (so no
 * event landed in between), and the check that every scale set's counters equal what the metrics say.
 */
export async function scrapeAgreeing(daemon: Daemon): Promise<{ e: Exposition; status: DaemonStatus }> {
  const url = daemon.healthUrl;
  if (!url) throw new Error('the daemon has no health server');
  const counters = (s: DaemonStatus) => JSON.stringify(s.scaleSets.map((ss) => ss.counters));
  const { e, status } = await pollUntil(
    async () => {
      const before = daemon.status();
      const text = await (await fetch(`${url}/metrics`)).text();
      const after = daemon.status();
      return counters(before) === counters(after) && { e: parseExposition(text), status: after };
    },
    { timeout: 10_000, what: 'a scrape without events landing during it' },
  );
  for (const ss of status.scaleSets) {
    expect(countersFromMetrics(e, ss.name), `metrics of ${ss.name}`).toEqual(ss.counters);
  }
  return { e, status };
}
