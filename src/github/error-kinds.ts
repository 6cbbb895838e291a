import { ActionsServiceError, MessageQueueTokenExpiredError } from './errors.js';

/** The error kinds of §9.2 that callers react to, plus the session ones the spec recommends. */
export type ActionsErrorKind =
  | 'SessionConflict'
  | 'SessionExpired'
  | 'ScaleSetNotFound'
  | 'RunnerExists'
  | 'RunnerNotFound'
  | 'JobStillRunning'
  | 'MessageQueueTokenExpired';

/** Matched by substring: real type names carry a namespace and an assembly suffix (§9.2). */
const TYPE_NAME_KINDS: readonly (readonly [string, ActionsErrorKind])[] = [
  ['RunnerScaleSetSessionConflictException', 'SessionConflict'],
  ['RunnerScaleSetSessionExpiredException', 'SessionExpired'],
  ['RunnerScaleSetNotFoundException', 'ScaleSetNotFound'],
  ['AgentExistsException', 'RunnerExists'],
  ['AgentNotFoundException', 'RunnerNotFound'],
  ['JobStillRunningException', 'JobStillRunning'],
];

/** The ActionsServiceError in `err`'s cause chain (e.g. behind a RetriesExhaustedError), if any. */
export function findActionsServiceError(err: unknown): ActionsServiceError | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur instanceof Error; depth++) {
    if (cur instanceof ActionsServiceError) return cur;
    cur = cur.cause;
  }
  return undefined;
}

export function actionsErrorKind(err: unknown): ActionsErrorKind | undefined {
  if (err instanceof MessageQueueTokenExpiredError) return 'MessageQueueTokenExpired';
  const http = findActionsServiceError(err);
  if (!http) return undefined;
  const kind = typeNameKind(http.typeName);
  if (kind) return kind;
  // Some proxies and older servers answer a conflicting session create with a bare 409 (§5.5).
  if (http.status === 409 && http.method === 'POST' && isSessionsCollection(http.url))
    return 'SessionConflict';
  return undefined;
}

/** The kind a §9.2 type name stands for, if any. */
export function typeNameKind(typeName: string | undefined): ActionsErrorKind | undefined {
  if (!typeName) return undefined;
  for (const [needle, kind] of TYPE_NAME_KINDS) {
    if (typeName.includes(needle)) return kind;
  }
  return undefined;
}

function isSessionsCollection(url: string): boolean {
  try {
    return new URL(url).pathname.replace(/\/+$/, '').endsWith('/sessions');
  } catch {
    return false;
  }
}

export const isSessionConflict = (err: unknown): boolean => actionsErrorKind(err) === 'SessionConflict';
export const isSessionExpired = (err: unknown): boolean => actionsErrorKind(err) === 'SessionExpired';
export const isScaleSetNotFound = (err: unknown): boolean => actionsErrorKind(err) === 'ScaleSetNotFound';
export const isRunnerExists = (err: unknown): boolean => actionsErrorKind(err) === 'RunnerExists';
export const isRunnerNotFound = (err: unknown): boolean => actionsErrorKind(err) === 'RunnerNotFound';
export const isJobStillRunning = (err: unknown): boolean => actionsErrorKind(err) === 'JobStillRunning';
export const isMessageQueueTokenExpired = (err: unknown): boolean =>
  actionsErrorKind(err) === 'MessageQueueTokenExpired';
