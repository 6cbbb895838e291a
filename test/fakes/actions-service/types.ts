import type { IncomingHttpHeaders } from 'node:http';
import type { Label, RunnerScaleSetStatistic } from '../../../src/github/types.js';

/** Options of the fake (test/fakes/CONTRACT.md). */
export interface FakeOptions {
  host?: string;
  port?: number;
  /** Long-poll hold before 202; default 50_000. */
  holdMs?: number;
  /** `exp` of admin JWTs; default 3600. */
  adminTokenTtlSec?: number;
  /** Accepted PATs; default one generated token exposed as `fake.pat`. */
  pats?: string[];
  app?: { clientId: string; installationId: number; publicKeyPem: string };
  /** How long /claim waits for a job before answering 204; default 25_000. */
  runnerClaimHoldMs?: number;
  /** Sessions without polls for this long go away; default 60_000. */
  sessionIdleTimeoutMs?: number;
  /** Available jobs are announced again after this long; default 5_000. */
  reannounceMs?: number;
}

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
  | 'jit-config'
  | 'agents'
  | 'agent'
  | 'poll'
  | 'ack'
  | 'fake-runner';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  route: FakeRoute | 'unknown';
}

export interface FakeScaleSet {
  id: number;
  name: string;
  runnerGroupId: number;
  runnerGroupName: string;
  labels: Label[];
  runnerSetting: Record<string, unknown>;
  createdOn: string;
  /** Last X-ScaleSetMaxCapacity seen on a poll. */
  maxCapacity: number;
}

export interface FakeSession {
  sessionId: string;
  scaleSetId: number;
  ownerName: string;
  queueToken: string;
  lastSeen: number;
  activePolls: number;
}

export interface FakeRunner {
  id: number;
  name: string;
  scaleSetId: number;
  secret: string;
  status: 'offline' | 'idle' | 'busy';
  jobRequestId?: number;
}

export type JobState = 'available' | 'acquired' | 'assigned' | 'started' | 'completed';

export interface FakeJob {
  requestId: number;
  scaleSetId: number;
  labels: string[];
  script: string;
  state: JobState;
  result?: 'succeeded' | 'failed' | 'canceled';
  runnerName?: string;
  runnerId?: number;
  queueTime: string;
  scaleSetAssignTime?: string;
  runnerAssignTime?: string;
  finishTime?: string;
  lastAnnouncedAt: number;
  history: { state: JobState; at: number }[];
}

export interface FakeMessage {
  messageId: number;
  scaleSetId: number;
  events: Record<string, unknown>[];
  statistics: RunnerScaleSetStatistic;
}
