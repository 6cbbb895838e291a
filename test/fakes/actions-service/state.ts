import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Label, RunnerScaleSetStatistic } from '../../../src/github/types.js';
import { ClaimQueue } from './claims.js';
import { MessageQueue } from './messages.js';
import { randomToken } from './tokens.js';
import type {
  FakeJob,
  FakeRunner,
  FakeRunnerGroup,
  FakeScaleSet,
  FakeSession,
  GhesMode,
  JobState,
} from './types.js';

export interface ScaleSetInput {
  name: string;
  runnerGroupId: number;
  labels: Label[];
  runnerSetting: Record<string, unknown>;
}

/**
 * The fake's model of one Actions service tenant: runner groups, scale sets, sessions, runner
 * registrations, jobs and each scale set's message queue. Emits 'change' on every mutation, so waiters
 * (long polls, claims, `waitFor`) re-check on events instead of sleeping.
 */
export class FakeState extends EventEmitter {
  readonly groups: FakeRunnerGroup[] = [{ id: 1, name: 'Default', size: 0, isDefaultGroup: true }];
  readonly scaleSets = new Map<number, FakeScaleSet>();
  readonly sessions = new Map<string, FakeSession>();
  readonly runners = new Map<number, FakeRunner>();
  readonly jobs = new Map<number, FakeJob>();
  readonly queues = new Map<number, MessageQueue>();
  /** Open leases by job request id: `end()` tells the runner its job is over (HTTP: ends the response). */
  readonly leases = new Map<number, { end(): void }>();
  /** Runners waiting in a claim (fake runner protocol). */
  readonly claims = new ClaimQueue(this);
  /** GHES label behaviour (FakeOptions.ghes); undefined behaves as github.com. */
  ghes: GhesMode | undefined;
  readonly #runnersByName = new Map<string, FakeRunner>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #nextScaleSetId = 1;
  #nextRunnerId = 1;
  #nextRequestId = 1000;
  #nextMessageId = 1;

  constructor(readonly baseUrl: () => string) {
    super();
    this.setMaxListeners(0);
  }

  changed(): void {
    this.claims.dispatch();
    this.emit('change');
  }

  /** A timer that `dispose()` cancels, so a closed fake leaves nothing scheduled. */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.claims.dispose();
    this.removeAllListeners();
  }

  // ---- runner groups and scale sets ---------------------------------------------------------------

  /** The labels a create or update keeps: on GHES without its flag, only the scale set's name. */
  keptLabels(name: string, labels: Label[]): Label[] {
    if (!this.ghes || this.ghes.customLabelsFlag) return labels;
    const own = labels.filter((l) => l.name.toLowerCase() === name.toLowerCase());
    return own.length > 0 ? own : [{ type: 'System', name }];
  }

  addGroup(name: string): FakeRunnerGroup {
    const group = { id: Math.max(...this.groups.map((g) => g.id)) + 1, name, size: 0, isDefaultGroup: false };
    this.groups.push(group);
    this.changed();
    return group;
  }

  createScaleSet(input: ScaleSetInput): FakeScaleSet {
    const ss: FakeScaleSet = {
      id: this.#nextScaleSetId++,
      ...input,
      runnerGroupName: this.groups.find((g) => g.id === input.runnerGroupId)?.name ?? 'Default',
      createdOn: new Date().toISOString(),
      maxCapacity: Number.POSITIVE_INFINITY,
    };
    this.scaleSets.set(ss.id, ss);
    this.queues.set(ss.id, new MessageQueue(() => this.#nextMessageId++));
    this.changed();
    return ss;
  }

  queue(scaleSetId: number): MessageQueue | undefined {
    return this.queues.get(scaleSetId);
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
      runnerJitConfigUrl: `${this.baseUrl()}/tenant/123/_apis/runtime/runnerscalesets/${ss.id}/generatejitconfig`,
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
      queueToken: this.#queueToken(scaleSetId),
      lastSeen: Date.now(),
      activePolls: 0,
    };
    this.sessions.set(s.sessionId, s);
    this.changed();
    return s;
  }

  rotateQueueToken(s: FakeSession): void {
    s.queueToken = this.#queueToken(s.scaleSetId);
    s.lastSeen = Date.now();
    this.changed();
  }

  deleteSession(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.changed();
  }

  /** Sessions of crashed listeners go away after a while without polls, as at GitHub. */
  expireIdleSessions(idleMs: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.activePolls === 0 && now - s.lastSeen > idleMs) this.sessions.delete(id);
    }
  }

  #queueToken(scaleSetId: number): string {
    return randomToken(`qt${scaleSetId}`);
  }

  // ---- runner registrations -----------------------------------------------------------------------

  registerRunner(scaleSetId: number, name: string): FakeRunner {
    const r: FakeRunner = {
      id: this.#nextRunnerId++,
      name,
      scaleSetId,
      // 122 random bits as hex; randomUUID draws from a cached entropy pool (randomBytes makes a call per runner).
      secret: randomUUID().replaceAll('-', ''),
      status: 'offline',
    };
    this.runners.set(r.id, r);
    this.#runnersByName.set(name, r);
    this.changed();
    return r;
  }

  runnerByName(name: string): FakeRunner | undefined {
    return this.#runnersByName.get(name);
  }

  /** The fake's JIT config: base64 JSON whose `runnerUrl` the fake runner talks to (CONTRACT.md). */
  jitConfigFor(r: FakeRunner): string {
    const json = JSON.stringify({
      runnerUrl: `${this.baseUrl()}/_fake/runners/${r.id}/${r.secret}`,
      runnerName: r.name,
      runnerId: r.id,
      scaleSetId: r.scaleSetId,
    });
    return Buffer.from(json).toString('base64');
  }

  deleteRunner(id: number): void {
    this.dropRunner(id);
    this.changed();
  }

  /** Removes a registration without announcing the change (the caller does); its waiting claims answer 410. */
  dropRunner(id: number): void {
    const r = this.runners.get(id);
    if (!r) return;
    this.runners.delete(id);
    if (this.#runnersByName.get(r.name) === r) this.#runnersByName.delete(r.name);
    this.claims.runnerGone(id);
  }

  // ---- jobs ---------------------------------------------------------------------------------------

  nextRequestId(): number {
    return this.#nextRequestId++;
  }

  /**
   * Jobs by scale set and state, each set in the order jobs entered that state. Assignment, claims and
   * statistics read these instead of scanning every job: a 10,000-job burst made those scans quadratic.
   */
  readonly #byState = new Map<number, Record<JobState, Set<FakeJob>>>();

  jobsIn(scaleSetId: number, state: JobState): ReadonlySet<FakeJob> {
    return this.#index(scaleSetId)[state];
  }

  addJob(job: FakeJob): void {
    this.jobs.set(job.requestId, job);
    this.#index(job.scaleSetId)[job.state].add(job);
  }

  /** The only way a job changes state, so the index stays true. */
  moveJob(job: FakeJob, to: JobState): void {
    const index = this.#index(job.scaleSetId);
    index[job.state].delete(job);
    job.state = to;
    job.history.push({ state: to, at: Date.now() });
    index[to].add(job);
  }

  #index(scaleSetId: number): Record<JobState, Set<FakeJob>> {
    let index = this.#byState.get(scaleSetId);
    if (!index) {
      index = {
        available: new Set(),
        acquired: new Set(),
        assigned: new Set(),
        started: new Set(),
        completed: new Set(),
      };
      this.#byState.set(scaleSetId, index);
    }
    return index;
  }

  /** Computed from state on every call, so every message and session carries current numbers. */
  statistics(scaleSetId: number): RunnerScaleSetStatistic {
    const index = this.#index(scaleSetId);
    const jobs = {
      available: index.available.size,
      acquired: index.acquired.size,
      assigned: index.assigned.size,
      started: index.started.size,
    };
    const runners = { registered: 0, busy: 0, idle: 0 };
    for (const r of this.runners.values()) {
      if (r.scaleSetId !== scaleSetId) continue;
      runners.registered++;
      if (r.status === 'busy') runners.busy++;
      if (r.status === 'idle') runners.idle++;
    }
    return {
      totalAvailableJobs: jobs.available,
      totalAcquiredJobs: jobs.acquired,
      totalAssignedJobs: jobs.acquired + jobs.assigned + jobs.started,
      totalRunningJobs: jobs.started,
      totalRegisteredRunners: runners.registered,
      totalBusyRunners: runners.busy,
      totalIdleRunners: runners.idle,
    };
  }
}
