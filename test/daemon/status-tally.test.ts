import { describe, expect, it } from 'vitest';
import { StatusTallies } from '../../src/daemon/status-tally.js';
import type { DaemonEvent } from '../../src/events.js';
import { createMetrics } from '../../src/health/metrics.js';
import { EventHub } from '../../src/kernel/events.js';
import { countersFromMetrics } from '../health/daemon-scrape.js';
import { completed, daemonStatus, event, jobBase, scaleSet, started, stats, T0 } from '../health/fixtures.js';
import { parseExposition } from '../health/prom-text.js';

/** One of every event that counts, for two scale sets, wired as the daemon wires them. */
function replay(emit: (ev: DaemonEvent) => void) {
  for (const set of ['linux', 'macos']) {
    const j = jobBase(set === 'linux' ? 1 : 2, { queued: 0, assigned: 0, started: 1_000, finished: 2_000 });
    emit(event('statistics', set, { stats: stats({ totalAssignedJobs: 3 }) }));
    emit(event('poll-succeeded', set, {}, T0 + 5_000));
    emit(event('desired-runners', set, { count: 2 }));
    emit(event('listener-reconnect', set, { reason: 'session-error', detail: 'HTTP 500' }));
    emit(event('job-started', set, { job: started(j, 'r1') }));
    emit(event('job-completed', set, { job: completed(j, 'r1') }));
    emit(event('runner-started', set, { runner: 'r1', backend: 'docker', tier: 'cold', durationMs: 10 }));
    emit(event('runner-start-failed', set, { runner: 'r2', backend: 'docker', reason: 'capacity' }));
    emit(event('runners-adopted', set, { count: 2 }));
    for (const kind of ['container', 'registration', 'session', 'vm', 'machine'] as const)
      emit(event('cleaned-up', set, { kind, count: kind === 'registration' ? 2 : 1 }));
  }
  // Only linux sees this one.
  emit(event('cleaned-up', 'linux', { kind: 'session', count: 1 }));
}

describe('StatusTallies', () => {
  it('keeps each scale set its own counters, statistics, desired count and poll time', () => {
    const tallies = new StatusTallies();
    const linux = tallies.of('linux');
    expect(linux.counters.cleanedUp).toBe(0);
    replay(tallies.onEvent);
    // A live view: taken before the events, it shows them.
    expect(linux).toMatchObject({
      stats: stats({ totalAssignedJobs: 3 }),
      desired: 2,
      lastPollAt: T0 + 5_000,
      counters: {
        jobsStarted: 1,
        jobsCompleted: 1,
        runnersStarted: 1,
        startFailures: 1,
        reconnects: 1,
        adopted: 2,
        cleanedUp: 7,
      },
    });
    expect(tallies.of('macos').counters.cleanedUp).toBe(6);
    expect(tallies.of('other').counters.jobsStarted).toBe(0);
  });

  it('agrees with the metrics fed by the same hub, counter by counter', async () => {
    const hub = new EventHub<DaemonEvent>({ limit: 0 });
    const metrics = createMetrics();
    const tallies = new StatusTallies();
    hub.listen(metrics.onEvent);
    hub.listen(tallies.onEvent);
    replay((ev) => hub.emit(ev));
    const sets = ['linux', 'macos'].map((name) =>
      scaleSet({ name, counters: { ...tallies.of(name).counters } }),
    );
    const e = parseExposition(await metrics.scrape(daemonStatus(sets)));
    for (const ss of sets) expect(countersFromMetrics(e, ss.name), ss.name).toEqual(ss.counters);
    expect(sets.map((s) => s.counters.cleanedUp)).toEqual([7, 6]);
  });
});
