import type { JobMessageBase } from '../github/types.js';
import type { JobRecord } from './status-types.js';

/** One job while it is being followed: times in epoch ms, turned into a `JobRecord` on demand. */
export interface JobDraft {
  requestId: number;
  scaleSet: string;
  jobDisplayName?: string;
  repository?: string;
  workflowRef?: string;
  eventName?: string;
  runnerName?: string;
  /** The host its runner ran on, for a backend with several. */
  host?: string;
  result?: string;
  queued?: number;
  assigned?: number;
  runnerStarted?: number;
  started?: number;
  completed?: number;
  /** Last time a message about this job arrived: what the stale-record TTL counts from. */
  touched: number;
}

/** The wire's times, when set; GitHub's clock is preferred over ours because it is the same for every stage. */
export function mergeMessage(d: JobDraft, job: JobMessageBase): void {
  d.jobDisplayName ||= job.jobDisplayName || undefined;
  d.repository ||= job.ownerName && job.repositoryName ? `${job.ownerName}/${job.repositoryName}` : undefined;
  d.workflowRef ||= job.jobWorkflowRef || undefined;
  d.eventName ||= job.eventName || undefined;
  d.queued ??= parse(job.queueTime);
  d.assigned ??= parse(job.scaleSetAssignTime);
  d.started ??= parse(job.runnerAssignTime);
  d.completed ??= parse(job.finishTime);
}

function parse(t: string | null): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * The job's stages as one timeline that never runs backwards, so every gap is ≥ 0 by construction.
 * Times come from two clocks and two vantage points: GitHub's wire times (queue, assignment, runner
 * assignment, finish) and our own events; and the scaler reports a runner as started when the backend's
 * start call returns, which can be after the runner process already connected and took its job (a
 * `runnerToStartMs` of -7 ms was seen). So each stage is taken no earlier than the one before it, and the
 * runner counts as ready no earlier than the assignment (a warm runner waiting before it: the job did
 * not wait) and no later than the job's start (a job cannot start on a runner that is not up). The
 * three pickup gaps then add up to `pickupMs`.
 */
function timeline(d: JobDraft) {
  const queued = d.queued;
  const assigned = notBefore(d.assigned, queued);
  const started = notBefore(d.started, assigned ?? queued);
  const completed = notBefore(d.completed, started ?? assigned ?? queued);
  const runnerReady = notAfter(notBefore(d.runnerStarted, assigned ?? queued), started);
  return { queued, assigned, runnerReady, started, completed };
}

function notBefore(t: number | undefined, floor: number | undefined): number | undefined {
  return t === undefined || floor === undefined ? t : Math.max(t, floor);
}

function notAfter(t: number | undefined, ceiling: number | undefined): number | undefined {
  return t === undefined || ceiling === undefined ? t : Math.min(t, ceiling);
}

function gap(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : to - from;
}

/**
 * Times are as observed, but for the runner's start, which is no later than the job's start (see
 * `timeline`); the gaps come from the timeline and are never negative.
 */
export function toRecord(d: JobDraft): JobRecord {
  const t = timeline(d);
  return {
    requestId: d.requestId,
    scaleSet: d.scaleSet,
    jobDisplayName: d.jobDisplayName,
    repository: d.repository,
    workflowRef: d.workflowRef,
    runnerName: d.runnerName,
    ...(d.host !== undefined ? { host: d.host } : {}),
    result: d.result,
    state: jobState({ result: d.result, started: d.started, completed: d.completed }),
    queuedAt: iso(d.queued),
    assignedAt: iso(d.assigned),
    runnerStartedAt: iso(notAfter(d.runnerStarted, d.started)),
    startedAt: iso(d.started),
    completedAt: iso(d.completed),
    queueToAssignMs: gap(t.queued, t.assigned),
    assignToRunnerMs: gap(t.assigned, t.runnerReady),
    runnerToStartMs: gap(t.runnerReady, t.started),
    pickupMs: gap(t.queued, t.started),
    executionMs: gap(t.started, t.completed),
  };
}

/**
 * The one rule for what a job is doing, which the dashboard and `runner status` both show: completed
 * (its result), running once a runner has started it, queued until then (waiting for assignment or
 * for a runner). `runner status` applies it itself to a daemon too old to send `state`.
 */
export function jobState(j: { result?: string | undefined; started?: unknown; completed?: unknown }): string {
  if (j.completed !== undefined || j.result) return j.result || 'completed';
  return j.started !== undefined ? 'running' : 'queued';
}
