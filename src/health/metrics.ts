import { Registry } from 'prom-client';
import type { DaemonEvent, UndecodableKind } from '../events.js';
import type { JobMessageBase } from '../github/types.js';
import { defineMetrics, type MetricSet } from './metric-defs.js';
import type { DaemonStatus } from './status-types.js';

export interface Metrics {
  /** Our own registry: the process-global one would mix in whatever else the process registers. */
  readonly registry: Registry;
  /** Feeds the counters and histograms: a listener of the daemon's event hub. */
  readonly onEvent: (ev: DaemonEvent) => void;
  /** Rebuilds the snapshot gauges from `status`. */
  collect(status: DaemonStatus): void;
  /** `collect(status)`, then the exposition text; what GET /metrics serves. */
  scrape(status: DaemonStatus): Promise<string>;
  readonly contentType: string;
}

const UNDECODABLE_KINDS: readonly UndecodableKind[] = ['message', 'job-message'];

export function createMetrics(): Metrics {
  const registry = new Registry();
  const m = defineMetrics(registry);
  return {
    registry,
    onEvent: eventCounter(m),
    collect: (status) => collectSnapshot(m, status),
    async scrape(status) {
      // collect() is synchronous, so a concurrent scrape can never see a half-rebuilt set of gauges.
      collectSnapshot(m, status);
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}

/** A label value from free text (error codes, reasons): bounded so a stray message cannot blow up series. */
function label(value: string): string {
  return value.length > 64 ? value.slice(0, 64) : value;
}

/**
 * ARC's job labels carry free text (job names with matrix values, PR numbers…). Each distinct set is a
 * series kept for the life of the process (a histogram's is 15 numbers), so past this many a new set
 * is folded into job_name="other": memory stays bounded on a daemon that runs for months.
 */
export const MAX_JOB_SERIES = 1000;
const OTHER = 'other';

/** The label sets seen so far; a new one beyond MAX_JOB_SERIES gets job_name="other". */
class JobLabels {
  readonly #seen = new Set<string>();

  of(scaleSet: string, job: JobMessageBase) {
    const l = {
      name: scaleSet,
      repository: job.repositoryName ?? '',
      organization: job.ownerName ?? '',
      job_name: job.jobDisplayName ?? '',
      event_name: job.eventName ?? '',
    };
    const key = `${l.name}\0${l.repository}\0${l.organization}\0${l.job_name}\0${l.event_name}`;
    if (this.#seen.has(key)) return l;
    if (this.#seen.size < MAX_JOB_SERIES) {
      this.#seen.add(key);
      return l;
    }
    return { ...l, job_name: OTHER };
  }
}

/** Seconds between two wire times, or undefined when either is unset (null) or unparsable. */
function secondsBetween(from: string | null, to: string | null): number | undefined {
  if (!from || !to) return undefined;
  const d = (Date.parse(to) - Date.parse(from)) / 1000;
  // Both times come from GitHub's clock, so a negative gap is bad data rather than skew: clamp it.
  return Number.isFinite(d) ? Math.max(0, d) : undefined;
}

/**
 * The counters and histograms, from events. Statistics, desired count and poll time are not here: the
 * gauges read them from the status snapshot at scrape time, so they can never disagree with
 * /api/status or linger for a scale set that is gone.
 */
function eventCounter(m: MetricSet): (ev: DaemonEvent) => void {
  const jobLabels = new JobLabels();
  return (ev) => {
    switch (ev.type) {
      case 'job-started': {
        const l = jobLabels.of(ev.scaleSet, ev.job);
        m.startedJobs.inc(l);
        const s = secondsBetween(ev.job.scaleSetAssignTime, ev.job.runnerAssignTime);
        if (s !== undefined) m.jobStartup.observe(l, s);
        return;
      }
      case 'job-completed': {
        const l = { ...jobLabels.of(ev.scaleSet, ev.job), job_result: ev.job.result ?? '' };
        m.completedJobs.inc(l);
        const s = secondsBetween(ev.job.runnerAssignTime, ev.job.finishTime);
        if (s !== undefined) m.jobExecution.observe(l, s);
        return;
      }
      case 'listener-reconnect':
        m.reconnects.inc({ scale_set: ev.scaleSet, reason: ev.reason });
        return;
      case 'runner-started':
        m.runnerStart.observe(
          { scale_set: ev.scaleSet, backend: ev.backend, tier: ev.tier },
          ev.durationMs / 1000,
        );
        return;
      case 'runner-start-failed':
        m.startFailures.inc({ scale_set: ev.scaleSet, backend: ev.backend, reason: label(ev.reason) });
        return;
      case 'runners-adopted':
        m.adopted.inc({ scale_set: ev.scaleSet }, ev.count);
        return;
      case 'cleaned-up':
        m.cleanedUp.inc({ scale_set: ev.scaleSet, kind: ev.kind }, ev.count);
        return;
      case 'message-undecodable':
        m.undecodable.inc({ scale_set: ev.scaleSet, kind: 'message' satisfies UndecodableKind });
        return;
      case 'job-message-invalid':
        m.undecodable.inc({ scale_set: ev.scaleSet, kind: 'job-message' satisfies UndecodableKind });
        return;
    }
  };
}

function collectSnapshot(m: MetricSet, status: DaemonStatus): void {
  const snapshot = [
    m.assignedJobs,
    m.runningJobs,
    m.registeredRunners,
    m.busyRunners,
    m.idleRunners,
    m.desiredRunners,
    m.minRunners,
    m.maxRunners,
    m.poolSize,
    m.runners,
    m.lastPoll,
    m.hostUp,
    m.hostCordoned,
    m.hostRunners,
    m.hostCpus,
    m.hostMemory,
  ];
  for (const g of snapshot) g.reset();
  for (const ss of status.scaleSets) {
    const name = { name: ss.name };
    const set = { scale_set: ss.name };
    m.desiredRunners.set(name, ss.desiredRunners);
    m.minRunners.set(name, ss.minRunners);
    m.maxRunners.set(name, ss.maxRunners);
    const st = ss.statistics;
    // No statistics yet (no session so far): leave the series absent rather than claim zero.
    if (st) {
      m.assignedJobs.set(name, st.totalAssignedJobs);
      m.runningJobs.set(name, st.totalRunningJobs);
      m.registeredRunners.set(name, st.totalRegisteredRunners);
      m.busyRunners.set(name, st.totalBusyRunners);
      m.idleRunners.set(name, st.totalIdleRunners);
    }
    for (const [state, n] of Object.entries(ss.runnerCounts)) m.runners.set({ ...set, state }, n);
    for (const [tier, n] of Object.entries(ss.pool)) m.poolSize.set({ ...set, tier }, n);
    for (const c of ss.costs ?? []) {
      m.costSeconds.set({ ...set, cause: c.cause }, c.seconds);
      m.costUsd.set({ ...set, cause: c.cause }, c.usd);
    }
    const polled = ss.lastPollAt ? Date.parse(ss.lastPollAt) : Number.NaN;
    if (Number.isFinite(polled)) m.lastPoll.set(set, polled / 1000);
    // Present from the start so rate()/increase() see the first adoption, or the first message that
    // could not be decoded (worth an alert: its jobs are lost), instead of a missing series.
    m.adopted.inc(set, 0);
    for (const kind of UNDECODABLE_KINDS) m.undecodable.inc({ ...set, kind }, 0);
  }
  for (const h of status.hosts ?? []) {
    const host = { host: h.name };
    m.hostUp.set(host, h.state === 'up' ? 1 : 0);
    m.hostCordoned.set(host, h.cordoned ? 1 : 0);
    const dims = [
      [m.hostRunners, h.used.count, h.budget.count],
      [m.hostCpus, h.used.cpus, h.budget.cpus],
      [m.hostMemory, h.used.memory, h.budget.memory],
    ] as const;
    for (const [gauge, used, budget] of dims) {
      gauge.set({ ...host, kind: 'used' satisfies HostKind }, used);
      // No cap, or a size the engine has not reported yet: no series rather than a made-up number.
      if (typeof budget === 'number') gauge.set({ ...host, kind: 'budget' satisfies HostKind }, budget);
    }
  }
}

/** The `kind` label of the per-host gauges. */
export type HostKind = 'used' | 'budget';
