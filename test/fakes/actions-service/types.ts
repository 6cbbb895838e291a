import type { IncomingHttpHeaders } from 'node:http';
import type { Label } from '../../../src/github/types.js';

/** Options of the fake (test/fakes/CONTRACT.md). */
export interface FakeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Long-poll hold before 202; default 50_000 (tests pass ~200–1000). */
  holdMs?: number;
  /** `exp` of admin JWTs; default 3600. */
  adminTokenTtlSec?: number;
  /** Accepted PATs; default one generated token exposed as `fake.pat`. */
  pats?: string[];
  /** The accepted GitHub App. */
  app?: { clientId: string; installationId: number; publicKeyPem: string };
  /** How long /claim waits for a job before answering 204; default 25_000. */
  runnerClaimHoldMs?: number;
  /** A session nobody polled for this long goes away, as a crashed listener's does at GitHub; default 60_000. */
  sessionIdleTimeoutMs?: number;
  /** A job still `available` this long after its announcement was acked is announced again; default 5_000. */
  reannounceMs?: number;
  /** A runner that claimed a job must open its lease within this; else the job fails; default 10_000. */
  leaseGraceMs?: number;
  /**
   * Keep every request in `requests`; default true. False keeps `requests` empty (no headers and bodies
   * retained: a benchmark's hundred thousand requests) while `requestCounts()` still counts them by route.
   */
  recordRequests?: boolean;
  /**
   * Behave as GitHub Enterprise Server 3.18–3.20 does with scale-set labels: unless
   * `customLabelsFlag` (the appliance's DistributedTask.AllowRunnerScaleSetCustomLabels) is on, a
   * create or update keeps only the scale set's name as its label and drops the rest without an error.
   * Absent: labels are kept, as on github.com. Changeable later with `fake.ghes(…)`.
   */
  ghes?: GhesMode;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

export interface GhesMode {
  customLabelsFlag: boolean;
}

/** Routes faults can target: CONTRACT.md's list plus the optional legacy F11 (`acquirable-jobs`). */
export type FakeRoute =
  | 'access-token'
  | 'registration-token'
  | 'runner-registration'
  | 'runner-groups'
  | 'scale-sets'
  | 'scale-set'
  | 'sessions'
  | 'session'
  | 'acquire-jobs'
  | 'acquirable-jobs'
  | 'jit-config'
  | 'agents'
  | 'agent'
  | 'poll'
  | 'ack';

/** The fake runner protocol (claim/lease/complete): never hit by faults, it stands for the runner's own link. */
export type RunnerRoute = 'fake-runner';

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names (node's IncomingHttpHeaders). */
  headers: IncomingHttpHeaders;
  body: string;
  /** Epoch ms of arrival. */
  at: number;
  route: FakeRoute | RunnerRoute | 'unknown';
}

export interface FakeRunnerGroup {
  id: number;
  name: string;
  size: number;
  isDefaultGroup: boolean;
}

/** A scale set as the fake stores it (live). `statistics(id)` gives its statistics. */
export interface FakeScaleSet {
  id: number;
  name: string;
  runnerGroupId: number;
  runnerGroupName: string;
  labels: Label[];
  runnerSetting: Record<string, unknown>;
  createdOn: string;
  /** Last `X-ScaleSetMaxCapacity` seen on a poll; Infinity before the first. */
  maxCapacity: number;
}

export interface FakeSession {
  sessionId: string;
  scaleSetId: number;
  ownerName: string;
  /** The current message-queue token; rotated by a refresh, invalidated by `expireQueueTokens`. */
  queueToken: string;
  lastSeen: number;
  activePolls: number;
}

/** A runner registration from generatejitconfig (live). */
export interface FakeRunner {
  id: number;
  name: string;
  scaleSetId: number;
  /** Part of the runner's URL, so only the holder of the JIT config can act as the runner. */
  secret: string;
  status: 'offline' | 'idle' | 'busy';
  jobRequestId?: number;
}

export type JobState = 'available' | 'acquired' | 'assigned' | 'started' | 'completed';
export type JobResult = 'succeeded' | 'failed' | 'canceled';

/** A job (live: its fields change as it moves on). Times are RFC 3339 strings, undefined while unset. */
export interface FakeJob {
  requestId: number;
  jobId: string;
  scaleSetId: number;
  labels: string[];
  script: string;
  /** `owner/repo`. */
  repository: string;
  displayName: string;
  state: JobState;
  result?: JobResult;
  runnerName?: string;
  runnerId?: number;
  /** True once its runner opened the lease. */
  leased: boolean;
  queueTime: string;
  scaleSetAssignTime?: string;
  runnerAssignTime?: string;
  finishTime?: string;
  /** When its last JobAvailable was acked (re-announcement clock). */
  announceAckedAt?: number;
  history: { state: JobState; at: number }[];
}

export interface QueueJobOptions {
  /** Scale set name; the job's labels default to `[scaleSet]`. */
  scaleSet?: string;
  labels?: string[];
  /** Script the fake runner runs; default `sleep <durationMs/1000>` (0 → `true`). */
  script?: string;
  durationMs?: number;
  /** `owner/repo`; default `my-org/my-repo`. */
  repository?: string;
  displayName?: string;
}
