export { AdminAuth, type AdminConnection, type GitHubCredentials } from './auth.js';
export { ActionsClient, type ActionsClientOptions } from './client.js';
export {
  type ConfigScope,
  type ConfigUrl,
  gitHubApiUrl,
  isHostedUrl,
  parseConfigUrl,
  registrationTokenPath,
} from './config-url.js';
export {
  type ActionsErrorKind,
  actionsErrorKind,
  findActionsServiceError,
  isJobStillRunning,
  isMessageQueueTokenExpired,
  isRunnerExists,
  isRunnerNotFound,
  isScaleSetNotFound,
  isSessionConflict,
  isSessionExpired,
} from './error-kinds.js';
export {
  ActionsServiceError,
  ConfigUrlError,
  type GitHubErrorCode,
  InvalidArgumentError,
  InvalidResponseError,
  MessageQueueTokenExpiredError,
  RetriesExhaustedError,
  RunnerGroupNotFoundError,
  SessionClosedError,
  TokenRefreshError,
  TransportError,
  UndecodableMessageError,
} from './errors.js';
export { decodeScaleSetMessage, JOB_MESSAGES_TYPE, parseScaleSetMessage } from './messages.js';
export { backoffWait, DEFAULT_RETRY, parseRetryAfter, type RetryOptions, retryWait } from './retry-policy.js';
export type { RunnerScaleSetInput } from './scale-set-body.js';
export { MessageSession } from './session.js';
export { DEFAULT_TIMEOUT_MS, type SleepFn, type TransportOptions } from './transport.js';
export * from './types.js';
export { DEFAULT_SYSTEM_INFO, formatUserAgent, type SystemInfo } from './user-agent.js';
export { parseWireTime } from './wire-time.js';
