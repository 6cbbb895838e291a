import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Label, RunnerScaleSetStatistic } from '../../../src/github/types.js';
import { randomToken } from './tokens.js';
import type { FakeJob, FakeMessage, FakeRunner, FakeScaleSet, FakeSession, JobState } from './types.js';

const UNSET = '0001-01-01T00:00:00Z';
const MAX_EVENTS_PER_MESSAGE = 50;

/**
 * The fake's model of one Actions service tenant: groups, scale sets, sessions, runner registrations,
 * jobs and each scale set's message queue. Emits 'change' on every mutation, so waiters never sleep.
 */
export class FakeState extends EventEmitter {
  readonly groups = [{ id: 1, name: 'Default', size: 0, isDefaultGroup: true }];
  readonly scaleSets = new Map<number, FakeScaleSet>();
  readonly sessions = new Map<string, FakeSession>();
  readonly runners = new Map<number, FakeRunner>();
  readonly jobs = new Map<number, FakeJob>();
  readonly #messages = new Map<number, FakeMessage[]>();
  readonly #pending = new Map<number, Record<string, unknown>[]>();
  #nextScaleSetId = 1;
  #nextRunnerId = 1;
  #nextRequestId = 1000;
  #nextMessageId = 1;

  constructor(readonly runnerBaseUrl: () => string) {
    super();
    this.setMaxListeners(0);
  }

  changed(): void {
    this.emit('change');
  }

  // ---- scale sets ---------------------------------------------------------------------------------

  createScaleSet(body: Record<string, unknown>): FakeScaleSet {
    const groupId = Number(body.runnerGroupId ?? 1) || 1;
    const ss: FakeScaleSet = {
      id: this.#nextScaleSetId++,
      name: String(body.name ?? ''),
      runnerGroupId: groupId,
      runnerGroupName: this.groups.find((g) => g.id === groupId)?.name ?? 'Default',
      labels: (body.labels as Label[] | undefined) ?? [],
      runnerSetting: (body.RunnerSetting ?? body.runnerSetting ?? {}) as Record<string, unknown>,
      createdOn: new Date().toISOString(),
      maxCapacity: Number.POSITIVE_INFINITY,
    };
    this.scaleSets.set(ss.id, ss);
    this.#messages.set(ss.id, []);
    this.changed();
    return ss;
  }

  /** PATCH semantics of the real service: absent or zero fields mean unchanged. */
  updateScaleSet(ss: FakeScaleSet, body: Record<string, unknown>): FakeScaleSet {
    if (typeof body.name === 'string' && body.name) ss.name = body.name;
    if (typeof body.runnerGroupId === 'number' && body.runnerGroupId) {
      ss.runnerGroupId = body.runnerGroupId;
      ss.runnerGroupName = this.groups.find((g) => g.id === body.runnerGroupId)?.name ?? ss.runnerGroupName;
    }
    if (Array.isArray(body.labels) && body.labels.length > 0) ss.labels = body.labels as Label[];
    const setting = body.RunnerSetting ?? body.runnerSetting;
    if (setting && typeof setting === 'object') ss.runnerSetting = { ...ss.runnerSetting, ...setting };
    this.changed();
    return ss;
  }

  deleteScaleSet(id: number): void {
    this.scaleSets.delete(id);
    for (const [sid, s] of this.sessions) if (s.scaleSetId === id) this.sessions.delete(sid);
    this.changed();
  }

  scaleSetJson(ss: FakeScaleSet): Record<string, unknown> {
    return {
      id: ss.id,
      name: ss.name,
      runnerGroupId: ss.runnerGroupId,
      runnerGroupName: ss.runnerGroupName,
      labels: ss.labels,
      RunnerSetting: ss.runnerSetting,
      createdOn: ss.createdOn,
      runnerJitConfigUrl: `/_apis/runtime/runnerscalesets/${ss.id}/generatejitconfig`,
      statistics: this.statistics(ss.id),
    };
  }

  // ---- sessions -----------------------------------------------------------------------------------

  activeSession(scaleSetId: number): FakeSession | undefined {
    for (const s of this.sessions.values()) if (s.scaleSetId === scaleSetId) return s;
    return undefined;
  }

  createSession(scaleSetId: number, ownerName: string): FakeSession {
    const s: FakeSession = {
      sessionId: randomUUID(),
      scaleSetId,
      ownerName,
      queueToken: randomToken('qt'),
      lastSeen: Date.now(),
      activePolls: 0,
    };
    this.sessions.set(s.sessionId, s);
    this.changed();
    return s;
  }

  /** Sessions of crashed listeners go away after a while without polls, as at GitHub. */
  expireIdleSessions(idleMs: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.activePolls === 0 && now - s.lastSeen > idleMs) this.sessions.delete(id);
    }
  }

  // ---- runners ------------------------------------------------------------------------------------

  registerRunner(scaleSetId: number, name: string): FakeRunner {
    const r: FakeRunner = {
      id: this.#nextRunnerId++,
      name,
      scaleSetId,
      secret: randomBytes(12).toString('hex'),
      status: 'offline',
    };
    this.runners.set(r.id, r);
    this.changed();
    return r;
  }

  runnerByName(name: string): FakeRunner | undefined {
    for (const r of this.runners.values()) if (r.name === name) return r;
    return undefined;
  }

  jitConfigFor(r: FakeRunner): string {
    const json = JSON.stringify({
      runnerUrl: `${this.runnerBaseUrl()}/_fake/runners/${r.id}/${r.secret}`,
      runnerName: r.name,
      runnerId: r.id,
      scaleSetId: r.scaleSetId,
    });
    return Buffer.from(json).toString('base64');
  }

  deleteRunner(id: number): void {
    this.runners.delete(id);
    this.changed();
  }

  // ---- jobs ---------------------------------------------------------------------------------------

  queueJob(scaleSetId: number, labels: string[], script: string): FakeJob {
    const now = Date.now();
    const job: FakeJob = {
      requestId: this.#nextRequestId++,
      scaleSetId,
      labels,
      script,
      state: 'available',
      queueTime: new Date(now).toISOString(),
      lastAnnouncedAt: now,
      history: [{ state: 'available', at: now }],
    };
    this.jobs.set(job.requestId, job);
    this.event(job, 'JobAvailable', { acquireJobUrl: `/acquire/${job.requestId}` });
    return job;
  }

  setJobState(job: FakeJob, state: JobState): void {
    job.state = state;
    job.history.push({ state, at: Date.now() });
  }

  /** Jobs acquired by a scale set become assigned while it has capacity (X-ScaleSetMaxCapacity). */
  assignAcquired(scaleSetId: number): void {
    const ss = this.scaleSets.get(scaleSetId);
    if (!ss) return;
    let inFlight = 0;
    for (const j of this.jobs.values()) {
      if (j.scaleSetId === scaleSetId && (j.state === 'assigned' || j.state === 'started')) inFlight++;
    }
    for (const j of this.jobs.values()) {
      if (inFlight >= ss.maxCapacity) break;
      if (j.scaleSetId !== scaleSetId || j.state !== 'acquired') continue;
      this.setJobState(j, 'assigned');
      j.scaleSetAssignTime = new Date().toISOString();
      inFlight++;
      this.event(j, 'JobAssigned', {});
    }
  }

  /** Binds the oldest assigned job of the runner's scale set to it: the job starts. */
  claimFor(r: FakeRunner): FakeJob | undefined {
    for (const j of this.jobs.values()) {
      if (j.scaleSetId !== r.scaleSetId || j.state !== 'assigned') continue;
      this.setJobState(j, 'started');
      j.runnerName = r.name;
      j.runnerId = r.id;
      j.runnerAssignTime = new Date().toISOString();
      r.status = 'busy';
      r.jobRequestId = j.requestId;
      this.event(j, 'JobStarted', { runnerId: r.id, runnerName: r.name });
      return j;
    }
    return undefined;
  }

  completeJob(job: FakeJob, result: 'succeeded' | 'failed' | 'canceled'): void {
    if (job.state === 'completed') return;
    this.setJobState(job, 'completed');
    job.result = result;
    job.finishTime = new Date().toISOString();
    this.event(job, 'JobCompleted', {
      result,
      runnerId: job.runnerId ?? 0,
      runnerName: job.runnerName ?? '',
    });
    // Ephemeral runners are deregistered by the service once their job ends.
    if (job.runnerId !== undefined) this.runners.delete(job.runnerId);
    this.assignAcquired(job.scaleSetId);
    this.changed();
  }

  // ---- messages -----------------------------------------------------------------------------------

  event(job: FakeJob, messageType: string, extra: Record<string, unknown>): void {
    const list = this.#pending.get(job.scaleSetId) ?? [];
    list.push({
      messageType,
      runnerRequestId: job.requestId,
      repositoryName: 'repo',
      ownerName: 'my-org',
      jobId: `job-${job.requestId}`,
      jobWorkflowRef: 'my-org/repo/.github/workflows/ci.yml@refs/heads/main',
      jobDisplayName: `job ${job.requestId}`,
      workflowRunId: job.requestId * 10,
      eventName: 'push',
      requestLabels: job.labels,
      queueTime: job.queueTime,
      scaleSetAssignTime: job.scaleSetAssignTime ?? UNSET,
      runnerAssignTime: job.runnerAssignTime ?? UNSET,
      finishTime: job.finishTime ?? UNSET,
      ...extra,
    });
    this.#pending.set(job.scaleSetId, list);
    this.changed();
  }

  /** Turns pending job events into messages (≤ 50 events each) carrying current statistics. */
  flush(scaleSetId: number): void {
    const pending = this.#pending.get(scaleSetId);
    if (!pending || pending.length === 0) return;
    this.#pending.set(scaleSetId, []);
    const queue = this.#messages.get(scaleSetId) ?? [];
    for (let i = 0; i < pending.length; i += MAX_EVENTS_PER_MESSAGE) {
      queue.push({
        messageId: this.#nextMessageId++,
        scaleSetId,
        events: pending.slice(i, i + MAX_EVENTS_PER_MESSAGE),
        statistics: this.statistics(scaleSetId),
      });
    }
    this.#messages.set(scaleSetId, queue);
  }

  nextMessage(scaleSetId: number, lastMessageId: number): FakeMessage | undefined {
    this.flush(scaleSetId);
    return this.#messages.get(scaleSetId)?.find((m) => m.messageId > lastMessageId);
  }

  ackMessage(scaleSetId: number, messageId: number): boolean {
    const queue = this.#messages.get(scaleSetId) ?? [];
    const i = queue.findIndex((m) => m.messageId === messageId);
    if (i < 0) return false;
    queue.splice(i, 1);
    this.changed();
    return true;
  }

  unacked(scaleSetId: number): number {
    return (this.#messages.get(scaleSetId)?.length ?? 0) + (this.#pending.get(scaleSetId)?.length ?? 0);
  }

  /** An approximation: available jobs nobody acquired are announced again so none is lost. */
  reannounce(scaleSetId: number, afterMs: number): void {
    const now = Date.now();
    for (const j of this.jobs.values()) {
      if (j.scaleSetId === scaleSetId && j.state === 'available' && now - j.lastAnnouncedAt > afterMs) {
        j.lastAnnouncedAt = now;
        this.event(j, 'JobAvailable', { acquireJobUrl: `/acquire/${j.requestId}` });
      }
    }
  }

  statistics(scaleSetId: number): RunnerScaleSetStatistic {
    const s = { available: 0, acquired: 0, assigned: 0, started: 0 };
    for (const j of this.jobs.values()) {
      if (j.scaleSetId !== scaleSetId) continue;
      if (j.state === 'available') s.available++;
      else if (j.state === 'acquired') s.acquired++;
      else if (j.state === 'assigned') s.assigned++;
      else if (j.state === 'started') s.started++;
    }
    let registered = 0;
    let busy = 0;
    for (const r of this.runners.values()) {
      if (r.scaleSetId !== scaleSetId) continue;
      registered++;
      if (r.status === 'busy') busy++;
    }
    return {
      totalAvailableJobs: s.available,
      totalAcquiredJobs: s.acquired,
      totalAssignedJobs: s.acquired + s.assigned + s.started,
      totalRunningJobs: s.started,
      totalRegisteredRunners: registered,
      totalBusyRunners: busy,
      totalIdleRunners: registered - busy,
    };
  }
}
