import type { ChildProcess } from 'node:child_process';
import type { MachineDirs } from './paths.js';

export type Phase =
  | 'accepted'
  | 'placement_pending'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'sleeping'
  | 'destroying'
  | 'destroyed'
  | 'failed';

export type DesiredState = 'running' | 'sleeping' | 'destroyed';

export type ExecStatus =
  | 'wake_in_progress'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'expired';

/** Phase delays in ms. Real values are [unknown] (create) or "sub-second to a few seconds" (wake). */
export interface FakeDelays {
  /** accepted → starting on create. */
  accept: number;
  /** starting → running on create. */
  start: number;
  /** running → stopping → sleeping. */
  stop: number;
  /** sleeping → starting → running. */
  wake: number;
  /** destroying → destroyed. */
  destroy: number;
}

export interface FakeMachine {
  id: string;
  vcpu: number;
  memoryMib: number;
  storageGib: number;
  /** 0 = autosleep disabled ("never"). */
  autosleepSeconds: number;
  desired: DesiredState;
  phase: Phase;
  reason: string;
  revision: number;
  createdAt: Date;
  lastTransitionAt: Date;
  lastActivityAt: number;
  /** Every phase in order, for assertions. */
  history: Phase[];
  dirs: MachineDirs;
  /** When the machine last became running (created or woken): its sleep hold window starts here. */
  lastWakeAt: number | undefined;
  /** When the machine last became running (undefined while not running), for usage. */
  awakeSince: number | undefined;
  awakeMs: number;
  timer: NodeJS.Timeout | undefined;
  /** True for machines made with `createMachineDirect` (someone else's, as far as the daemon knows). */
  foreign: boolean;
}

export interface FakeExecEvent {
  sequence: number;
  type: 'lifecycle' | 'stdout' | 'stderr';
  at: string;
  chunk?: string;
  status?: ExecStatus;
  exit_code?: number;
  signal?: number;
}

export interface FakeExecution {
  id: string;
  machineId: string;
  command: string[];
  cwd: string | undefined;
  env: Record<string, string>;
  stdin: string | undefined;
  timeoutMs: number | undefined;
  status: ExecStatus;
  createdAt: Date;
  startedAt: Date | undefined;
  completedAt: Date | undefined;
  exitCode: number | undefined;
  signal: number | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  stdout: string;
  stderr: string;
  events: FakeExecEvent[];
  child: ChildProcess | undefined;
  frozen: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  route: string;
  machineId: string | undefined;
  idempotencyKey: string | undefined;
  /** Whether the bearer key matched; the key itself is never recorded. */
  authorized: boolean;
  body: unknown;
  status: number;
  at: number;
}
