/** Wire types of the runner scale-set protocol (docs/protocol.md §12). */

export interface Label {
  type: string;
  name: string;
}

export interface RunnerSetting {
  disableUpdate?: boolean;
  ephemeral?: boolean;
  isElastic?: boolean;
}

export interface RunnerScaleSetStatistic {
  totalAvailableJobs: number;
  totalAcquiredJobs: number;
  totalAssignedJobs: number;
  totalRunningJobs: number;
  totalRegisteredRunners: number;
  totalBusyRunners: number;
  totalIdleRunners: number;
}

export interface RunnerScaleSet {
  id?: number;
  name?: string;
  runnerGroupId?: number;
  runnerGroupName?: string;
  labels?: Label[];
  /** The wire key has a capital R; responses may use either spelling. */
  RunnerSetting?: RunnerSetting;
  createdOn?: string;
  runnerJitConfigUrl?: string;
  statistics?: RunnerScaleSetStatistic | null;
}

export interface RunnerGroup {
  id: number;
  name: string;
  size: number;
  isDefaultGroup: boolean;
}

export interface ListResponse<T> {
  count: number;
  value: T[];
}

export interface RunnerScaleSetSession {
  sessionId: string;
  ownerName: string;
  runnerScaleSet?: RunnerScaleSet;
  messageQueueUrl: string;
  messageQueueAccessToken: string;
  statistics: RunnerScaleSetStatistic | null;
}

export interface RawMessage {
  messageId: number;
  messageType: string;
  body?: string;
  statistics?: RunnerScaleSetStatistic | null;
}

export type JobMessageType = 'JobAvailable' | 'JobAssigned' | 'JobStarted' | 'JobCompleted';

export interface JobMessageBase {
  messageType: JobMessageType;
  runnerRequestId: number;
  repositoryName: string;
  ownerName: string;
  jobId: string;
  jobWorkflowRef: string;
  jobDisplayName: string;
  workflowRunId: number;
  eventName: string;
  requestLabels: string[];
  /** Unset times (`0001-01-01T00:00:00Z`, null, absent) are null. */
  queueTime: string | null;
  scaleSetAssignTime: string | null;
  runnerAssignTime: string | null;
  finishTime: string | null;
}

export interface JobAvailable extends JobMessageBase {
  messageType: 'JobAvailable';
  acquireJobUrl: string;
}

export interface JobAssigned extends JobMessageBase {
  messageType: 'JobAssigned';
}

export interface JobStarted extends JobMessageBase {
  messageType: 'JobStarted';
  runnerId: number;
  runnerName: string;
}

export interface JobCompleted extends JobMessageBase {
  messageType: 'JobCompleted';
  result: string;
  runnerId: number;
  runnerName: string;
}

export interface RunnerScaleSetMessage {
  messageId: number;
  statistics: RunnerScaleSetStatistic;
  jobAvailable: JobAvailable[];
  jobAssigned: JobAssigned[];
  jobStarted: JobStarted[];
  jobCompleted: JobCompleted[];
  /** Job messages of the batch that could not be decoded: each left out alone, the rest kept (§6.2). */
  invalidJobMessages: InvalidJobMessage[];
}

/** One job message runner could not read, e.g. an id past 2^53 in a field it uses. */
export interface InvalidJobMessage {
  /** Position in the message's `body` array. */
  index: number;
  /** The element's `messageType` when it had a known one. */
  messageType?: JobMessageType;
  /** The job's request id, when that much could be read. */
  runnerRequestId?: number;
  reason: string;
}

export interface JitRunnerSetting {
  name: string;
  workFolder: string;
}

export interface RunnerReference {
  id: number;
  name: string;
  runnerScaleSetId: number;
}

export interface JitRunnerConfig {
  runner: RunnerReference;
  encodedJITConfig: string;
}

export interface AcquireJobsResponse {
  count: number;
  value: number[];
}

export interface ActionsException {
  typeName?: string;
  message?: string;
}

export const EMPTY_STATISTICS: RunnerScaleSetStatistic = Object.freeze({
  totalAvailableJobs: 0,
  totalAcquiredJobs: 0,
  totalAssignedJobs: 0,
  totalRunningJobs: 0,
  totalRegisteredRunners: 0,
  totalBusyRunners: 0,
  totalIdleRunners: 0,
});
