import type { Label, RunnerScaleSetStatistic, RunnerSetting } from '../../../src/github/types.js';

/** Options of the fake (test/fakes/CONTRACT.md). */
export interface FakeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
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
  /**
   * After a message announcing a job is acked, how long the job may stay `available` (acquire failed or
   * never sent) before it is announced again; default 2_000.
   */
  reannounceMs?: number;
  /** How long a runner that claimed a job has to open its lease before the job fails; default 10_000. */
  leaseGraceMs?: number;
}

/** The routes faults can target (CONTRACT.md), plus the optional legacy F11. */
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

/** The fake runner protocol; never affected by faults (it stands for the runner's own connection). */
export type FakeRunnerRoute = 'runner-claim' | 'runner-lease' | 'runner-complete';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Epoch ms of arrival. */
  at: number;
  /** The matched route, if any. */
  route?: FakeRoute | FakeRunnerRoute;
}

export interface FakeScaleSet {
  id: number;
  name: string;
  runnerGroupId: number;
  runnerGroupName: string;
  labels: Label[];
  runnerSetting: RunnerSetting;
  createdOn: string;
  /** Last `X-ScaleSetMaxCapacity` seen on a poll; undefined before the first poll. */
  maxCapacity?: number;
  statistics: RunnerScaleSetStatistic;
}

export interface FakeSession {
  sessionId: string;
  scaleSetId: number;
  ownerName: string;
  messageQueueUrl: string;
  messageQueueAccessToken: string;
  createdAt: number;
}

export type FakeRunnerStatus = 'offline' | 'idle' | 'busy';

/** A runner registration (from generatejitconfig). Live, read-only view. */
export interface FakeRunner {
  readonly id: number;
  readonly name: string;
  readonly scaleSetId: number;
  readonly status: FakeRunnerStatus;
  readonly jobRequestId?: number;
}

export type FakeJobState = 'available' | 'acquired' | 'assigned' | 'started' | 'completed';
export type FakeJobResult = 'succeeded' | 'failed' | 'canceled';

/** A queued job. Live, read-only view: its fields change as the job moves on. */
export interface FakeJob {
  readonly requestId: number;
  readonly jobId: string;
  /** Undefined while no scale set's labels cover the job's labels. */
  readonly scaleSetId: number | undefined;
  readonly labels: readonly string[];
  readonly state: FakeJobState;
  readonly result?: FakeJobResult;
  readonly runnerId?: number;
  readonly runnerName?: string;
  /** True once the runner running it opened its lease. */
  readonly leased: boolean;
  readonly script: string;
  readonly history: readonly { state: FakeJobState; at: number }[];
}

export interface QueueJobOptions {
  /** Scale set name; the job's labels default to `[scaleSet]`. */
  scaleSet?: string;
  labels?: string[];
  /** Shell script the fake runner runs; default `sleep <durationMs/1000>` (0 → `true`). */
  script?: string;
  durationMs?: number;
  /** `owner/repo`; default `my-org/my-repo`. */
  repository?: string;
  displayName?: string;
}

export type MalformedKind =
  | 'empty-body'
  | 'bad-json'
  | 'wrong-type'
  | 'null-statistics'
  | 'unknown-inner'
  | 'bom';

export interface InjectedFault {
  route: FakeRoute | '*';
  status: number;
  /** Default 1. */
  times?: number;
  retryAfter?: string;
  /** Raw body; default a JSON exception `{typeName, message}`. */
  body?: string;
  contentType?: string;
  /** Prefix the body with a UTF-8 byte order mark. */
  bom?: boolean;
}

export interface FakeFaults {
  inject(f: InjectedFault): void;
  expireQueueTokens(): void;
  expireAdminTokens(): void;
  sessionConflict(times: number): void;
  holdPolls(): void;
  releasePolls(): void;
  dropPolls(times: number): void;
  down(): void;
  up(): void;
  malformedMessage(kind: MalformedKind): void;
  clear(): void;
}
