import type { z } from 'zod';
import { InvalidResponseError, UndecodableMessageError } from './errors.js';
import { canonicalizeKeys, decodeJson, isPlainObject } from './json.js';
import type {
  InvalidJobMessage,
  JobAssigned,
  JobAvailable,
  JobCompleted,
  JobMessageBase,
  JobMessageType,
  JobStarted,
  RunnerScaleSetMessage,
  RunnerScaleSetStatistic,
} from './types.js';
import {
  jobAssignedSchema,
  jobAvailableSchema,
  jobCompletedSchema,
  jobStartedSchema,
  rawMessageSchema,
} from './wire-decoders.js';
import { describeZodError, int } from './wire-schema.js';

export const JOB_MESSAGES_TYPE = 'RunnerScaleSetJobMessages';

export interface RawScaleSetMessage {
  messageId: number;
  messageType: string;
  body: string;
  statistics: RunnerScaleSetStatistic | null;
}

/**
 * Decodes a 200 from the message queue into a batch grouped by job-message type (§6.2), failing as
 * narrowly as it can (§8.2 says what the listener does with each failure):
 *
 * - not JSON, or no usable `messageId`: an InvalidResponseError. Without an id the message can be
 *   neither acknowledged nor told apart from the next one.
 * - an id, but a type, statistics or body that cannot be read: an UndecodableMessageError with the id.
 * - a job message that cannot be read: left out of the batch and listed in `invalidJobMessages`; the
 *   others are kept.
 */
export function decodeScaleSetMessage(body: Uint8Array | string, what: string): RunnerScaleSetMessage {
  let json: unknown;
  try {
    json = decodeJson(body);
  } catch (err) {
    throw new InvalidResponseError(`invalid response from ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const messageId = usableMessageId(json, what);
  const raw = rawMessageSchema.safeParse(json);
  if (!raw.success) throw new UndecodableMessageError(messageId, describeZodError(raw.error), what);
  return parseScaleSetMessage(raw.data, what);
}

export function parseScaleSetMessage(raw: RawScaleSetMessage, what: string): RunnerScaleSetMessage {
  const undecodable = (reason: string) => new UndecodableMessageError(raw.messageId, reason, what);
  if (raw.messageType !== JOB_MESSAGES_TYPE)
    throw undecodable(`unsupported message type: ${raw.messageType}`);
  // Go's listener would dereference nil here; a named error is what an operator can act on.
  if (raw.statistics === null) throw undecodable('statistics is null or missing');
  const message: RunnerScaleSetMessage = {
    messageId: raw.messageId,
    statistics: raw.statistics,
    jobAvailable: [],
    jobAssigned: [],
    jobStarted: [],
    jobCompleted: [],
    invalidJobMessages: [],
  };
  const elements = jobElements(raw.body, undecodable);
  for (let index = 0; index < elements.length; index++) addJobMessage(message, elements[index], index);
  return message;
}

/** The envelope's id, if it is one the queue can be told about (a safe integer above 0). */
function usableMessageId(json: unknown, what: string): number {
  const found = isPlainObject(json)
    ? (canonicalizeKeys(json, ['messageId']) as { messageId?: unknown }).messageId
    : undefined;
  const parsed = int.safeParse(found);
  if (parsed.success && parsed.data > 0) return parsed.data;
  const why = !isPlainObject(json)
    ? 'not a JSON object'
    : parsed.success
      ? 'messageId is missing or 0'
      : `messageId: ${parsed.error.issues[0]?.message ?? 'not an integer'}`;
  throw new InvalidResponseError(`invalid response from ${what}: ${why}`);
}

function jobElements(body: string, undecodable: (reason: string) => Error): unknown[] {
  if (body === '') return [];
  let parsed: unknown;
  try {
    parsed = decodeJson(body);
  } catch (err) {
    throw undecodable(`body: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw undecodable('body: not a JSON array');
  return parsed;
}

const SCHEMAS = {
  JobAvailable: jobAvailableSchema,
  JobAssigned: jobAssignedSchema,
  JobStarted: jobStartedSchema,
  JobCompleted: jobCompletedSchema,
} as const;

function addJobMessage(into: RunnerScaleSetMessage, element: unknown, index: number): void {
  if (!isPlainObject(element)) {
    into.invalidJobMessages.push({ index, reason: 'not an object' });
    return;
  }
  const type = messageTypeOf(element);
  // Unknown types are ignored, as in Go: the service may add kinds older clients must survive.
  if (type === undefined) return;
  const result = SCHEMAS[type].safeParse(element);
  if (!result.success) {
    into.invalidJobMessages.push(invalidJobMessage(element, type, index, describeZodError(result.error)));
    return;
  }
  switch (type) {
    case 'JobAvailable': {
      const job = result.data as z.output<typeof jobAvailableSchema>;
      into.jobAvailable.push({
        ...base(job, 'JobAvailable'),
        acquireJobUrl: job.acquireJobUrl,
      } satisfies JobAvailable);
      return;
    }
    case 'JobAssigned':
      into.jobAssigned.push(base(result.data, 'JobAssigned') satisfies JobAssigned);
      return;
    case 'JobStarted': {
      const job = result.data as z.output<typeof jobStartedSchema>;
      into.jobStarted.push({
        ...base(job, 'JobStarted'),
        runnerId: job.runnerId,
        runnerName: job.runnerName,
      } satisfies JobStarted);
      return;
    }
    case 'JobCompleted': {
      const job = result.data as z.output<typeof jobCompletedSchema>;
      into.jobCompleted.push({
        ...base(job, 'JobCompleted'),
        result: job.result,
        runnerId: job.runnerId,
        runnerName: job.runnerName,
      } satisfies JobCompleted);
      return;
    }
  }
}

/** Real job messages spell the key exactly; the case-insensitive lookup is the rare fallback (§0). */
function messageTypeOf(element: Record<string, unknown>): JobMessageType | undefined {
  const direct = element.messageType;
  const type =
    typeof direct === 'string'
      ? direct
      : (canonicalizeKeys(element, ['messageType']) as { messageType?: unknown }).messageType;
  return typeof type === 'string' && Object.hasOwn(SCHEMAS, type) ? (type as JobMessageType) : undefined;
}

/** What the log can say about a job message that failed: its request id, when that part is readable. */
function invalidJobMessage(
  element: Record<string, unknown>,
  messageType: JobMessageType,
  index: number,
  reason: string,
): InvalidJobMessage {
  const id = int.safeParse(
    (canonicalizeKeys(element, ['runnerRequestId']) as { runnerRequestId?: unknown }).runnerRequestId,
  );
  return id.success && id.data > 0
    ? { index, messageType, runnerRequestId: id.data, reason }
    : { index, messageType, reason };
}

function base<T extends JobMessageBase['messageType']>(
  job: z.output<typeof jobAssignedSchema>,
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
