import type { DaemonEvent } from '../events.js';
import type { RunnerScaleSetStatistic } from '../github/types.js';
import type { ScaleSetStatus, UndecodableRecord } from '../health/status-types.js';

/** What the events told about one scale set, for its status. */
export interface ScaleSetTally {
  readonly stats: RunnerScaleSetStatistic | undefined;
  /** The last desired count reported after a message; the scaler's live target takes precedence. */
  readonly desired: number;
  /** When a long poll last returned 200 or 202 (ms epoch). */
  readonly lastPollAt: number | undefined;
  readonly counters: Readonly<ScaleSetStatus['counters']>;
  readonly lastUndecodable: UndecodableRecord | undefined;
}

interface MutableTally {
  stats: RunnerScaleSetStatistic | undefined;
  desired: number;
  lastPollAt: number | undefined;
  counters: ScaleSetStatus['counters'];
  lastUndecodable: UndecodableRecord | undefined;
}

/**
 * The status' per-scale-set counters, statistics and poll time, kept by listening to the daemon's
 * events: the same events feed the metrics, so `counters.cleanedUp` is the sum of
 * `runner_cleaned_up_total` over its kinds, `counters.reconnects` that of
 * `runner_listener_reconnects_total`, and so on.
 */
export class StatusTallies {
  readonly #bySet = new Map<string, MutableTally>();

  /** The tally of `scaleSet` (all zero until its first event); a live view, read it when needed. */
  of(scaleSet: string): ScaleSetTally {
    return this.#tally(scaleSet);
  }

  /** The hub listener. */
  readonly onEvent = (ev: DaemonEvent): void => {
    const t = this.#tally(ev.scaleSet);
    const c = t.counters;
    switch (ev.type) {
      case 'statistics':
        t.stats = ev.stats;
        return;
      case 'desired-runners':
        t.desired = ev.count;
        return;
      case 'poll-succeeded':
        t.lastPollAt = ev.at;
        return;
      case 'listener-reconnect':
        c.reconnects++;
        return;
      case 'job-started':
        c.jobsStarted++;
        return;
      case 'job-completed':
        c.jobsCompleted++;
        return;
      case 'runner-started':
        c.runnersStarted++;
        return;
      case 'runner-start-failed':
        c.startFailures++;
        return;
      case 'runners-adopted':
        c.adopted += ev.count;
        return;
      case 'cleaned-up':
        c.cleanedUp += ev.count;
        return;
      case 'message-undecodable':
        c.undecodableMessages++;
        t.lastUndecodable = {
          kind: 'message',
          messageId: ev.messageId,
          reason: ev.reason,
          at: new Date(ev.at).toISOString(),
        };
        return;
      case 'job-message-invalid': {
        c.invalidJobMessages++;
        const { index, runnerRequestId, reason } = ev.jobMessage;
        t.lastUndecodable = {
          kind: 'job-message',
          messageId: ev.messageId,
          jobIndex: index,
          ...(runnerRequestId !== undefined ? { runnerRequestId } : {}),
          reason,
          at: new Date(ev.at).toISOString(),
        };
        return;
      }
    }
  };

  #tally(scaleSet: string): MutableTally {
    let t = this.#bySet.get(scaleSet);
    if (!t) {
      t = {
        stats: undefined,
        desired: 0,
        lastPollAt: undefined,
        lastUndecodable: undefined,
        counters: {
          jobsStarted: 0,
          jobsCompleted: 0,
          runnersStarted: 0,
          startFailures: 0,
          reconnects: 0,
          adopted: 0,
          cleanedUp: 0,
          undecodableMessages: 0,
          invalidJobMessages: 0,
        },
      };
      this.#bySet.set(scaleSet, t);
    }
    return t;
  }
}
