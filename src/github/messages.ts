import type { z } from 'zod';
import { InvalidResponseError } from './errors.js';
import { canonicalizeKeys, decodeJson, isPlainObject } from './json.js';
import type {
  JobAssigned,
  JobAvailable,
  JobCompleted,
  JobMessageBase,
  JobStarted,
  RunnerScaleSetMessage,
  RunnerScaleSetStatistic,
} from './types.js';
import { decodeBody, jobMessageSchema, parseValue, rawMessageSchema } from './wire-decoders.js';

export const JOB_MESSAGES_TYPE = 'RunnerScaleSetJobMessages';

export interface RawScaleSetMessage {
  messageId: number;
  messageType: string;
  body: string;
  statistics: RunnerScaleSetStatistic | null;
}

/** Decodes a 200 from the message queue into a batch grouped by job-message type (§6.2). */
export function decodeScaleSetMessage(body: Uint8Array | string, what: string): RunnerScaleSetMessage {
  return parseScaleSetMessage(decodeBody(rawMessageSchema, body, what), what);
}

export function parseScaleSetMessage(raw: RawScaleSetMessage, what: string): RunnerScaleSetMessage {
  if (raw.messageType !== JOB_MESSAGES_TYPE) {
    throw new InvalidResponseError(
      `invalid response from ${what}: unsupported message type: ${raw.messageType}`,
    );
  }
  // Go's listener would dereference nil here; a named error is what an operator can act on.
  if (raw.statistics === null) {
    throw new InvalidResponseError(
      `invalid message ${raw.messageId} from ${what}: statistics is null or missing`,
    );
  }
  const message: RunnerScaleSetMessage = {
    messageId: raw.messageId,
    statistics: raw.statistics,
    jobAvailable: [],
    jobAssigned: [],
    jobStarted: [],
    jobCompleted: [],
  };
  for (const [index, element] of jobElements(raw.body, what).entries()) {
    addJobMessage(message, element, `${what} (message ${raw.messageId}, job ${index})`);
  }
  return message;
}

function jobElements(body: string, what: string): unknown[] {
  if (body === '') return [];
  let parsed: unknown;
  try {
    parsed = decodeJson(body);
  } catch (err) {
    throw new InvalidResponseError(`invalid message body from ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!Array.isArray(parsed))
    throw new InvalidResponseError(`invalid message body from ${what}: not a JSON array`);
  return parsed;
}

function addJobMessage(into: RunnerScaleSetMessage, element: unknown, what: string): void {
  if (!isPlainObject(element))
    throw new InvalidResponseError(`invalid job message in ${what}: not an object`);
  const { messageType } = canonicalizeKeys(element, ['messageType']) as { messageType?: unknown };
  switch (messageType) {
    case 'JobAvailable': {
      const job = parseValue(jobMessageSchema, element, what);
      into.jobAvailable.push({
        ...base(job, 'JobAvailable'),
        acquireJobUrl: job.acquireJobUrl,
      } satisfies JobAvailable);
      return;
    }
    case 'JobAssigned':
      into.jobAssigned.push(
        base(parseValue(jobMessageSchema, element, what), 'JobAssigned') satisfies JobAssigned,
      );
      return;
    case 'JobStarted': {
      const job = parseValue(jobMessageSchema, element, what);
      into.jobStarted.push({
        ...base(job, 'JobStarted'),
        runnerId: job.runnerId,
        runnerName: job.runnerName,
      } satisfies JobStarted);
      return;
    }
    case 'JobCompleted': {
      const job = parseValue(jobMessageSchema, element, what);
      into.jobCompleted.push({
        ...base(job, 'JobCompleted'),
        result: job.result,
        runnerId: job.runnerId,
        runnerName: job.runnerName,
      } satisfies JobCompleted);
      return;
    }
    default:
      // Unknown types are ignored, as in Go: the service may add kinds older clients must survive.
      return;
  }
}

function base<T extends JobMessageBase['messageType']>(
  job: z.output<typeof jobMessageSchema>,
  messageType: T,
): JobMessageBase & { messageType: T } {
  return {
    messageType,
    runnerRequestId: job.runnerRequestId,
    repositoryName: job.repositoryName,
    ownerName: job.ownerName,
    jobId: job.jobId,
    jobWorkflowRef: job.jobWorkflowRef,
    jobDisplayName: job.jobDisplayName,
    workflowRunId: job.workflowRunId,
    eventName: job.eventName,
    requestLabels: job.requestLabels,
    queueTime: job.queueTime,
    scaleSetAssignTime: job.scaleSetAssignTime,
    runnerAssignTime: job.runnerAssignTime,
    finishTime: job.finishTime,
  };
}
