import { randomUUID } from 'node:crypto';
import { type JobEventType, jobEvent, type StoredMessage } from './messages.js';
import type { FakeState } from './state.js';
import type { FakeJob, FakeRunner, FakeScaleSet, JobResult, QueueJobOptions } from './types.js';

/*
 * The job lifecycle of CONTRACT.md: available → acquired → assigned → started → completed. Each step
 * puts the matching job message on the scale set's queue.
 */

export function queueJob(state: FakeState, ss: FakeScaleSet, opts: QueueJobOptions): FakeJob {
  const secs = (opts.durationMs ?? 0) / 1000;
  const requestId = state.nextRequestId();
  const now = Date.now();
  const job: FakeJob = {
    requestId,
    jobId: randomUUID(),
    scaleSetId: ss.id,
    labels: opts.labels ?? [ss.name],
    script: opts.script ?? (secs > 0 ? `sleep ${secs}` : 'true'),
    repository: opts.repository ?? 'my-org/my-repo',
    displayName: opts.displayName ?? `job ${requestId}`,
    state: 'available',
    leased: false,
    queueTime: new Date(now).toISOString(),
    history: [{ state: 'available', at: now }],
  };
  state.addJob(job);
  announce(state, job);
  return job;
}

function emit(state: FakeState, job: FakeJob, type: JobEventType, extra: Record<string, unknown> = {}): void {
  state.queue(job.scaleSetId)?.push(jobEvent(job, type, extra));
  state.changed();
}

function announce(state: FakeState, job: FakeJob): void {
  const acquireJobUrl = `${state.baseUrl()}/tenant/123/_apis/runtime/runnerscalesets/${job.scaleSetId}/acquirejobs`;
  emit(state, job, 'JobAvailable', { acquireJobUrl });
}

/** Acquires the listed jobs that are still available to this scale set; returns those ids. */
export function acquire(state: FakeState, scaleSetId: number, ids: readonly unknown[]): number[] {
  const acquired: number[] = [];
  for (const id of ids) {
    const job = state.jobs.get(Number(id));
    if (!job || job.scaleSetId !== scaleSetId || job.state !== 'available') continue;
    state.moveJob(job, 'acquired');
    acquired.push(job.requestId);
  }
  assignAcquired(state, scaleSetId);
  state.changed();
  return acquired;
}

/**
 * Acquired jobs become assigned while the scale set has room: never more assigned or running jobs than
 * the last `X-ScaleSetMaxCapacity` its listener sent. An approximation: the docs only say the service
 * uses the header "to avoid assigning more jobs than the scale set can run".
 */
export function assignAcquired(state: FakeState, scaleSetId: number): void {
  const ss = state.scaleSets.get(scaleSetId);
  if (!ss) return;
  let inFlight = state.jobsIn(scaleSetId, 'assigned').size + state.jobsIn(scaleSetId, 'started').size;
  const acquired = state.jobsIn(scaleSetId, 'acquired');
  if (inFlight >= ss.maxCapacity || acquired.size === 0) return;
  // No copy of the set (thousands of jobs wait acquired in a burst, and this runs on every completion):
  // a Set iterator survives the deletion of the entry it is on, and nothing adds acquired jobs meanwhile.
  for (const job of acquired) {
    if (inFlight >= ss.maxCapacity) break;
    state.moveJob(job, 'assigned');
    job.scaleSetAssignTime = new Date().toISOString();
    inFlight++;
    emit(state, job, 'JobAssigned');
  }
}

/** Starts the oldest assigned job of the runner's scale set on it (FIFO), if there is one. */
export function claimFor(state: FakeState, r: FakeRunner): FakeJob | undefined {
  if (r.status === 'busy') return undefined;
  for (const job of state.jobsIn(r.scaleSetId, 'assigned')) {
    state.moveJob(job, 'started');
    job.runnerName = r.name;
    job.runnerId = r.id;
    job.runnerAssignTime = new Date().toISOString();
    r.status = 'busy';
    r.jobRequestId = job.requestId;
    emit(state, job, 'JobStarted', { runnerId: r.id, runnerName: r.name });
    return job;
  }
  return undefined;
}

/** Finishes a job; its (ephemeral) runner registration goes away, as GitHub removes it. */
export function completeJob(state: FakeState, job: FakeJob, result: JobResult): void {
  if (job.state === 'completed') return;
  state.moveJob(job, 'completed');
  job.result = result;
  job.finishTime = new Date().toISOString();
  emit(state, job, 'JobCompleted', { result, runnerId: job.runnerId ?? 0, runnerName: job.runnerName ?? '' });
  if (job.runnerId !== undefined) state.dropRunner(job.runnerId);
  state.leases.get(job.requestId)?.end();
  state.leases.delete(job.requestId);
  assignAcquired(state, job.scaleSetId);
  state.changed();
}

/**
 * A listener acks before it acquires, so an acquire that fails would lose the job for good. The real
 * service announces jobs again when they stay unassigned; we approximate that: a job still available
 * `reannounceMs` after its announcement was acked, and not announced since, gets a fresh JobAvailable.
 */
export function scheduleReannounce(state: FakeState, acked: StoredMessage, reannounceMs: number): void {
  const jobs: FakeJob[] = [];
  const now = Date.now();
  for (const event of acked.events) {
    if (event.messageType !== 'JobAvailable') continue;
    const job = state.jobs.get(event.runnerRequestId);
    if (job?.state !== 'available') continue;
    job.announceAckedAt = now;
    jobs.push(job);
  }
  if (jobs.length === 0) return;
  // One timer for the message's jobs (acked together, so due together), not one per job.
  state.later(reannounceMs, () => {
    for (const job of jobs) {
      if (job.state === 'available' && !state.queue(job.scaleSetId)?.announces(job.requestId)) {
        announce(state, job);
      }
    }
  });
}
