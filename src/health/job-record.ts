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

function gap(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : to - from;
}

/**
 * Gaps are raw differences and may be negative: `assignToRunnerMs` < 0 means the runner was already up
 * (warm pool) before GitHub assigned the job, and runner start times are our clock while the rest is
 * GitHub's, so a few hundred ms of skew can show.
 */
export function toRecord(d: JobDraft): JobRecord {
  return {
    requestId: d.requestId,
    scaleSet: d.scaleSet,
    jobDisplayName: d.jobDisplayName,
    repository: d.repository,
    workflowRef: d.workflowRef,
    runnerName: d.runnerName,
    result: d.result,
    queuedAt: iso(d.queued),
    assignedAt: iso(d.assigned),
    runnerStartedAt: iso(d.runnerStarted),
    startedAt: iso(d.started),
    completedAt: iso(d.completed),
    queueToAssignMs: gap(d.queued, d.assigned),
    assignToRunnerMs: gap(d.assigned, d.runnerStarted),
    runnerToStartMs: gap(d.runnerStarted, d.started),
    pickupMs: gap(d.queued, d.started),
    executionMs: gap(d.started, d.completed),
  };
}
