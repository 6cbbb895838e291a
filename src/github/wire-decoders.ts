import { z } from 'zod';
import { InvalidResponseError } from './errors.js';
import { decodeJson } from './json.js';
import type {
  AcquireJobsResponse,
  RunnerGroup,
  RunnerReference,
  RunnerScaleSet,
  RunnerScaleSetSession,
  RunnerScaleSetStatistic,
} from './types.js';
import {
  bool,
  describeZodError,
  int,
  intArray,
  optionalWireObject,
  str,
  strArray,
  wireObject,
  wireTime,
} from './wire-schema.js';

const statisticsShape = {
  totalAvailableJobs: int,
  totalAcquiredJobs: int,
  totalAssignedJobs: int,
  totalRunningJobs: int,
  totalRegisteredRunners: int,
  totalBusyRunners: int,
  totalIdleRunners: int,
};
export const statisticsSchema = wireObject(statisticsShape);
/** Null or absent statistics stay null: the listener must refuse them with a clear error (§6.2, §8). */
export const nullableStatisticsSchema = statisticsSchema.nullish().transform((v) => v ?? null);

const optionalFlag = z
  .boolean()
  .nullish()
  .transform((v) => v ?? undefined);

export const scaleSetSchema = wireObject({
  id: int,
  name: str,
  runnerGroupId: int,
  runnerGroupName: str,
  labels: z
    .array(wireObject({ type: str, name: str }))
    .nullish()
    .transform((v) => v ?? []),
  // Go's struct tag is "RunnerSetting"; wireObject also accepts "runnerSetting" (§0).
  RunnerSetting: optionalWireObject({
    disableUpdate: optionalFlag,
    ephemeral: optionalFlag,
    isElastic: optionalFlag,
  }),
  createdOn: str,
  runnerJitConfigUrl: str,
  statistics: nullableStatisticsSchema,
});

export const runnerGroupSchema = wireObject({ id: int, name: str, size: int, isDefaultGroup: bool });

export const sessionSchema = wireObject({
  sessionId: str,
  ownerName: str,
  runnerScaleSet: scaleSetSchema.nullish().transform((v) => v ?? undefined),
  messageQueueUrl: str,
  messageQueueAccessToken: str,
  statistics: nullableStatisticsSchema,
});

export const runnerReferenceSchema = wireObject({ id: int, name: str, runnerScaleSetId: int });

export const jitConfigSchema = wireObject({
  runner: runnerReferenceSchema.nullish().transform((v) => v ?? undefined),
  encodedJITConfig: str,
});

export const acquireJobsSchema = wireObject({ count: int, value: intArray });

export const rawMessageSchema = wireObject({
  messageId: int,
  messageType: str,
  body: str,
  statistics: nullableStatisticsSchema,
});

/**
 * The fields of §7.1, which all four job-message types carry. One schema per type (§7.2): a field a type
 * does not have is an unknown field for it, and an unknown field never fails a job message (§0).
 */
const jobBaseShape = {
  messageType: str,
  runnerRequestId: int,
  repositoryName: str,
  ownerName: str,
  jobId: str,
  jobWorkflowRef: str,
  jobDisplayName: str,
  workflowRunId: int,
  eventName: str,
  requestLabels: strArray,
  queueTime: wireTime,
  scaleSetAssignTime: wireTime,
  runnerAssignTime: wireTime,
  finishTime: wireTime,
};
export const jobAvailableSchema = wireObject({ ...jobBaseShape, acquireJobUrl: str });
export const jobAssignedSchema = wireObject(jobBaseShape);
export const jobStartedSchema = wireObject({ ...jobBaseShape, runnerId: int, runnerName: str });
export const jobCompletedSchema = wireObject({
  ...jobBaseShape,
  runnerId: int,
  runnerName: str,
  result: str,
});

/** The GitHub API token responses of §2.2/§2.3 and the admin connection of §2.4. */
export const tokenSchema = wireObject({ token: str, expires_at: str });
export const adminConnectionSchema = wireObject({ url: str, token: str });

export function listSchema<T extends z.ZodType>(item: T) {
  return wireObject({
    count: int,
    value: z
      .array(item)
      .nullish()
      .transform((v): z.output<T>[] => v ?? []),
  });
}

/** Parses a 2xx body; any shape problem is an InvalidResponseError naming the request. */
export function decodeBody<T extends z.ZodType>(
  schema: T,
  body: Uint8Array | string,
  what: string,
): z.output<T> {
  let json: unknown;
  try {
    json = decodeJson(body);
  } catch (err) {
    throw new InvalidResponseError(`invalid response from ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseValue(schema, json, what);
}

export function parseValue<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new InvalidResponseError(`invalid response from ${what}: ${describeZodError(result.error)}`);
  return result.data;
}

// Compile-time checks that the decoders produce the shared wire types.
type Assert<T extends true> = T;
type Fits<A, B> = A extends B ? true : false;
export type _DecoderChecks = [
  Assert<Fits<z.output<typeof statisticsSchema>, RunnerScaleSetStatistic>>,
  Assert<Fits<z.output<typeof scaleSetSchema>, RunnerScaleSet>>,
  Assert<Fits<z.output<typeof runnerGroupSchema>, RunnerGroup>>,
  Assert<Fits<z.output<typeof sessionSchema>, RunnerScaleSetSession>>,
  Assert<Fits<z.output<typeof runnerReferenceSchema>, RunnerReference>>,
  Assert<Fits<z.output<typeof acquireJobsSchema>, AcquireJobsResponse>>,
];
