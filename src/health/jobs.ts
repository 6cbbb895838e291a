import type { DaemonEvent } from '../events.js';
import type { JobCompleted, JobMessageBase, JobStarted } from '../github/types.js';
import type { Logger } from '../log.js';
import { type JobDraft, mergeMessage, toRecord } from './job-record.js';
import type { JobRecord } from './status-types.js';

export interface JobTelemetryOptions {
  logger: Logger;
  /** Finished jobs kept for the dashboard and `runner status` (default 200). */
  keep?: number;
  /**
   * An unfinished job with no news for this long is dropped (default 26 h: GitHub lets a job wait in
   * the queue for 24 h, so anything older lost its JobCompleted, e.g. across a daemon restart).
   */
  staleAfterMs?: number;
  /** Hard cap on jobs and runners being followed, whatever their age (default 10 000). */
  maxTracked?: number;
  /**
   * Where a runner of `scaleSet` runs, asked of its backend when no runner-started event said so yet:
   * a job can end before the start call that made its runner returns (the engine answered late), and
   * its "job completed" line must still name the host.
   */
  hostOf?: (scaleSet: string, runner: string) => string | undefined;
}

const SEP = '\u0000';

/**
 * Follows each job queued → assigned → runner started → job started → completed, logs one line per
 * job when it completes, and keeps the last `keep` jobs. A listener of the daemon's events; its only
 * clock is the events' `at`, so what it records is what the emitters saw. Repeated messages (GitHub
 * may deliver one twice) change nothing.
 */
export class JobTelemetry {
  readonly #log: Logger;
  readonly #keep: number;
  readonly #ttl: number;
  readonly #max: number;
  readonly #open = new Map<string, JobDraft>();
  /** Finished jobs, oldest first; `#done` indexes it so a repeated JobCompleted is recognised. */
  readonly #finished: JobDraft[] = [];
  readonly #done = new Set<string>();
  /** When each runner came up (ms) and where, until a job claims it. */
  readonly #runners = new Map<string, { at: number; host?: string }>();
  #lastPrune = 0;
  readonly #hostOf: JobTelemetryOptions['hostOf'];

  constructor(opts: JobTelemetryOptions) {
    this.#log = opts.logger;
    this.#keep = opts.keep ?? 200;
    this.#ttl = opts.staleAfterMs ?? 26 * 3600_000;
    this.#max = opts.maxTracked ?? 10_000;
    this.#hostOf = opts.hostOf;
  }

  /** The hub listener. */
  readonly onEvent = (ev: DaemonEvent): void => {
    switch (ev.type) {
      case 'job-available': {
        const d = this.#track(ev.scaleSet, ev.job, ev.at);
        if (d) d.queued ??= ev.at;
        return;
      }
      case 'job-assigned': {
        const d = this.#track(ev.scaleSet, ev.job, ev.at);
        if (d) d.assigned ??= ev.at;
        return;
      }
      case 'runner-started':
        this.#runners.set(ev.scaleSet + SEP + ev.runner, {
          at: ev.at,
          ...(ev.host !== undefined ? { host: ev.host } : {}),
        });
        this.#prune(ev.at);
        return;
      case 'job-started':
        this.#jobStarted(ev.scaleSet, ev.job, ev.at);
        return;
      case 'job-completed':
        this.#jobCompleted(ev.scaleSet, ev.job, ev.at);
        return;
    }
  };

  #jobStarted(scaleSet: string, job: JobStarted, at: number): void {
    const d = this.#track(scaleSet, job, at);
    if (!d) return;
    d.started ??= at;
    this.#claimRunner(d, job.runnerName);
  }

  #jobCompleted(scaleSet: string, job: JobCompleted, at: number): void {
    const d = this.#track(scaleSet, job, at);
    if (!d) return;
    d.completed ??= at;
    d.result = job.result || undefined;
    this.#claimRunner(d, job.runnerName);
    if (d.runnerName) this.#runners.delete(scaleSet + SEP + d.runnerName);
    const key = scaleSet + SEP + d.requestId;
    this.#open.delete(key);
    this.#done.add(key);
    this.#finished.push(d);
    while (this.#finished.length > this.#keep) {
      const old = this.#finished.shift();
      if (old) this.#done.delete(old.scaleSet + SEP + old.requestId);
    }
    const { scaleSet: _, runnerName, requestId, ...rest } = toRecord(d);
    // `scaleSet`/`runner` are the context keys the text log format prints as [set/runner].
    this.#log.info(
      { scaleSet, runner: runnerName, requestId, eventName: d.eventName, ...rest },
      'job completed',
    );
  }

  /** Newest first: jobs still in flight, then finished ones; at most `keep`. */
  recent(scaleSet?: string): JobRecord[] {
    const mine = (d: JobDraft) => scaleSet === undefined || d.scaleSet === scaleSet;
    const open = [...this.#open.values()].filter(mine);
    const finished = this.#finished.filter(mine).reverse();
    const byQueued = (a: JobDraft, b: JobDraft) => (b.queued ?? b.touched) - (a.queued ?? a.touched);
    return [...open.sort(byQueued), ...finished].slice(0, this.#keep).map(toRecord);
  }

  /** Jobs and runners currently followed (for tests and bounded-memory checks). */
  get tracked(): { jobs: number; runners: number } {
    return { jobs: this.#open.size, runners: this.#runners.size };
  }

  #track(scaleSet: string, job: JobMessageBase, now: number): JobDraft | undefined {
    const key = scaleSet + SEP + job.runnerRequestId;
    if (this.#done.has(key)) return undefined;
    let d = this.#open.get(key);
    if (!d) {
      d = { requestId: job.runnerRequestId, scaleSet, touched: now };
      this.#open.set(key, d);
      this.#prune(now);
    }
    d.touched = now;
    mergeMessage(d, job);
    return d;
  }

  #claimRunner(d: JobDraft, runnerName: string): void {
    if (!runnerName) return;
    d.runnerName = runnerName;
    const runner = this.#runners.get(d.scaleSet + SEP + runnerName);
    d.runnerStarted ??= runner?.at;
    d.host ??= runner?.host ?? this.#hostOf?.(d.scaleSet, runnerName);
  }

  /** Drops what has gone stale; runs at most once a minute unless a cap is exceeded. */
  #prune(now: number): void {
    const over = this.#open.size > this.#max || this.#runners.size > this.#max;
    if (!over && now - this.#lastPrune < 60_000) return;
    this.#lastPrune = now;
    let dropped = 0;
    for (const [key, d] of this.#open) {
      if (now - d.touched > this.#ttl || this.#open.size > this.#max) {
        this.#open.delete(key);
        dropped++;
      }
    }
    for (const [key, { at }] of this.#runners) {
      if (now - at > this.#ttl || this.#runners.size > this.#max) this.#runners.delete(key);
    }
    if (dropped > 0) this.#log.debug({ dropped }, 'dropped unfinished job records with no news');
  }
}
