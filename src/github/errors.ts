/**
 * Errors of the scale-set protocol client. Callers switch on the literal `code`, not on `instanceof`,
 * so a class can be split or moved without breaking them (the undici convention).
 */
import { RunnerError } from '../kernel/errors.js';

export type GitHubErrorCode =
  | 'ACTIONS_HTTP'
  | 'RETRIES_EXHAUSTED'
  | 'TRANSPORT'
  | 'QUEUE_TOKEN_EXPIRED'
  | 'TOKEN_REFRESH'
  | 'INVALID_CONFIG_URL'
  | 'INVALID_RESPONSE'
  | 'UNDECODABLE_MESSAGE'
  | 'INVALID_ARGUMENT'
  | 'SESSION_CLOSED'
  | 'RUNNER_GROUP_NOT_FOUND';

export interface ActionsServiceErrorInit {
  method: string;
  /** Already free of credentials (see `redactUrl`). */
  url: string;
  status: number;
  statusText: string;
  typeName?: string | undefined;
  /** The server's own message (`message` of the JSON exception, or the text/plain body). */
  detail: string;
  activityId?: string | undefined;
  githubRequestId?: string | undefined;
  /** Raw response body, truncated and scrubbed. */
  body: string;
  /** What the client was doing, e.g. "failed to get runner registration token"; prefixed to the cause. */
  context?: string | undefined;
}

/** An HTTP response from GitHub or the Actions service with a status the caller did not expect (§9.1). */
export class ActionsServiceError extends RunnerError {
  readonly code = 'ACTIONS_HTTP' as const;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly typeName: string | undefined;
  readonly detail: string;
  readonly activityId: string | undefined;
  readonly githubRequestId: string | undefined;
  readonly body: string;

  constructor(init: ActionsServiceErrorInit) {
    super(formatRequestFailure(init));
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.statusText = init.statusText;
    this.typeName = init.typeName;
    this.detail = init.detail;
    this.activityId = init.activityId;
    this.githubRequestId = init.githubRequestId;
    this.body = init.body;
  }
}

/** `request <METHOD> <URL> failed(status="409 Conflict", activity_id="…", github_request_id="…"): …` */
export function formatRequestFailure(init: ActionsServiceErrorInit): string {
  const fields = [`status=${JSON.stringify(`${init.status} ${init.statusText}`.trim())}`];
  if (init.activityId) fields.push(`activity_id=${JSON.stringify(init.activityId)}`);
  if (init.githubRequestId) fields.push(`github_request_id=${JSON.stringify(init.githubRequestId)}`);
  const cause = init.typeName ? `${init.typeName}: ${init.detail}` : init.detail;
  const text = init.context ? `${init.context}: ${cause}` : cause;
  return `request ${init.method} ${init.url} failed(${fields.join(', ')}): ${text}`;
}

/**
 * The retry budget of §3.5 ran out. Unlike the Go client, the last status and its parsed error stay
 * available (`status`, `cause`), so "answering 401 five times fails with the 401 status" can be checked.
 */
export class RetriesExhaustedError extends RunnerError {
  readonly code = 'RETRIES_EXHAUSTED' as const;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly attempts: number,
    /** Status of the last response; undefined when the last attempt failed without one. */
    readonly status: number | undefined,
    cause: unknown,
  ) {
    super(`${method} ${url} giving up after ${attempts} attempt(s): ${describe(cause)}`, { cause });
  }
}

/** A request that failed below HTTP and is not worth retrying (TLS certificate, bad URL scheme, …). */
export class TransportError extends RunnerError {
  readonly code = 'TRANSPORT' as const;
  constructor(
    readonly method: string,
    readonly url: string,
    cause: unknown,
  ) {
    super(`request ${method} ${url} failed: ${describe(cause)}`, { cause });
  }
}

/** The queue answered 401 again right after a session refresh (§6.6). */
export class MessageQueueTokenExpiredError extends RunnerError {
  readonly code = 'QUEUE_TOKEN_EXPIRED' as const;
  constructor(
    readonly method: string,
    readonly url: string,
    cause: ActionsServiceError,
  ) {
    super(`message queue token expired: ${cause.message}`, { cause });
  }
}

/** The admin-token chain (§2.5) failed; the previous token, URL and expiry stay in use. */
export class TokenRefreshError extends RunnerError {
  readonly code = 'TOKEN_REFRESH' as const;
  constructor(cause: unknown) {
    super(`failed to issue update token if needed: ${describe(cause)}`, { cause });
  }
}

export class ConfigUrlError extends RunnerError {
  readonly code = 'INVALID_CONFIG_URL' as const;
}

/** A 2xx response whose body does not have the shape the protocol promises. */
export class InvalidResponseError extends RunnerError {
  readonly code = 'INVALID_RESPONSE' as const;
}

/**
 * A 200 from the message queue that names its message (`messageId`) but whose type, statistics or body
 * cannot be read (§6.2). Unlike an InvalidResponseError it carries the id, so the listener can decide
 * what to do with that message (acknowledge it in the end, §8.2) instead of reconnecting for ever.
 */
export class UndecodableMessageError extends RunnerError {
  readonly code = 'UNDECODABLE_MESSAGE' as const;
  constructor(
    readonly messageId: number,
    /** What could not be read, without the request: "body: not a JSON array". */
    readonly reason: string,
    what: string,
    options?: ErrorOptions,
  ) {
    super(`message ${messageId} from ${what} cannot be decoded: ${reason}`, options);
  }
}

/** A call rejected before any request was sent (e.g. a scale set with neither name nor labels). */
export class InvalidArgumentError extends RunnerError {
  readonly code = 'INVALID_ARGUMENT' as const;
}

/** §4.2: a group lookup with `count: 0` is an error, usually a misspelt group in the config. */
export class RunnerGroupNotFoundError extends RunnerError {
  readonly code = 'RUNNER_GROUP_NOT_FOUND' as const;
  constructor(readonly groupName: string) {
    super(`no runner group found with name ${JSON.stringify(groupName)}`);
  }
}

export class SessionClosedError extends RunnerError {
  readonly code = 'SESSION_CLOSED' as const;
  constructor(sessionId: string) {
    super(`message session ${sessionId} is closed`);
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
