import { type Logger, silentLogger } from '../log.js';
import { forgetSecret, Secret } from '../secret.js';
import type { ActionsService } from './actions-service.js';
import { responseError } from './error-body.js';
import { InvalidArgumentError, MessageQueueTokenExpiredError, SessionClosedError } from './errors.js';
import { decodeScaleSetMessage } from './messages.js';
import { Mutex } from './mutex.js';
import { decodeSessionResponse } from './session-decode.js';
import type { HttpResponse, HttpTransport } from './transport.js';
import type { RunnerScaleSetMessage, RunnerScaleSetSession } from './types.js';
import { API_VERSION, messageAckUrl, messagePollUrl, pathSegment } from './url.js';
import { acquireJobsSchema, decodeBody } from './wire-decoders.js';

export interface MessageSessionInit {
  actions: ActionsService;
  /** Transport for queue calls: a copy of the client's options (§3.5). */
  transport: HttpTransport;
  scaleSetId: number;
  session: RunnerScaleSetSession;
  /** Captured at creation and used for queue GET/DELETE, as the Go session client does (§3.3). */
  userAgent: string;
  logger?: Logger;
}

/**
 * One open message session (§5–§6). Calls are serialized so a 401 refresh never races another call
 * with a stale token; `close()` is exempt so shutdown works while a poll is still in flight.
 */
export class MessageSession {
  readonly scaleSetId: number;
  readonly #actions: ActionsService;
  readonly #transport: HttpTransport;
  readonly #userAgent: string;
  readonly #logger: Logger;
  readonly #mutex = new Mutex();
  #session: RunnerScaleSetSession;
  #closed = false;

  constructor(init: MessageSessionInit) {
    this.scaleSetId = init.scaleSetId;
    this.#actions = init.actions;
    this.#transport = init.transport;
    this.#userAgent = init.userAgent;
    this.#logger = init.logger ?? silentLogger;
    this.#session = init.session;
  }

  /** The current session; replaced by every refresh (new queue token, maybe a new queue URL). */
  get session(): RunnerScaleSetSession {
    return this.#session;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Long-polls the queue (§6.1): the next message batch, or null when the hold expired (202). */
  async getMessage(
    lastMessageId: number,
    maxCapacity: number,
    signal?: AbortSignal,
  ): Promise<RunnerScaleSetMessage | null> {
    checkCount('lastMessageId', lastMessageId);
    checkCount('maxCapacity', maxCapacity);
    return this.#exclusive(signal, async () => {
      const res = await this.#withQueueToken(signal, (s, token) =>
        this.#transport.send({
          method: 'GET',
          url: messagePollUrl(s.messageQueueUrl, lastMessageId),
          headers: {
            Accept: `application/json; api-version=${API_VERSION}`,
            Authorization: `Bearer ${token.reveal()}`,
            'User-Agent': this.#userAgent,
            'X-ScaleSetMaxCapacity': String(maxCapacity),
          },
          signal,
        }),
      );
      if (res.status === 202) return null;
      if (res.status !== 200) throw responseError(res);
      return decodeScaleSetMessage(res.body, `${res.method} ${res.url}`);
    });
  }

  /** Acknowledges a message (§6.4); unacknowledged messages are redelivered. */
  async deleteMessage(messageId: number, signal?: AbortSignal): Promise<void> {
    checkCount('messageId', messageId);
    return this.#exclusive(signal, async () => {
      const res = await this.#withQueueToken(signal, (s, token) =>
        this.#transport.send({
          method: 'DELETE',
          url: messageAckUrl(s.messageQueueUrl, messageId),
          headers: {
            Authorization: `Bearer ${token.reveal()}`,
            'Content-Type': 'application/json',
            'User-Agent': this.#userAgent,
          },
          signal,
        }),
      );
      if (res.status !== 204) throw responseError(res);
    });
  }

  /** Acquires `JobAvailable` jobs (§6.5); returns the ids actually acquired, possibly a subset. */
  async acquireJobs(requestIds: readonly number[], signal?: AbortSignal): Promise<number[]> {
    for (const id of requestIds) checkCount('requestIds[]', id);
    return this.#exclusive(signal, async () => {
      const res = await this.#withQueueToken(signal, (_s, token) =>
        this.#actions.send({
          method: 'POST',
          path: `_apis/runtime/runnerscalesets/${pathSegment(this.scaleSetId)}/acquirejobs`,
          body: requestIds,
          token,
          signal,
        }),
      );
      if (res.status !== 200) throw responseError(res);
      return decodeBody(acquireJobsSchema, res.body, `${res.method} ${res.url}`).value;
    });
  }

  /** Replaces the session with a fresh one from the service (§5.3). */
  async refresh(signal?: AbortSignal): Promise<RunnerScaleSetSession> {
    return this.#exclusive(signal, () => this.#refresh(signal));
  }

  /**
   * Deletes the session (§5.4). Deliberately outside the mutex: a caller shutting down must not wait
   * behind a long poll. Pass a signal that outlives the daemon's own shutdown signal.
   */
  async close(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return;
    await this.#actions.call({ method: 'DELETE', path: this.#sessionPath(), expect: 204, signal });
    this.#closed = true;
  }

  async #refresh(signal: AbortSignal | undefined): Promise<RunnerScaleSetSession> {
    const res = await this.#actions.call({ method: 'PATCH', path: this.#sessionPath(), expect: 200, signal });
    const previousToken = this.#session.messageQueueAccessToken;
    this.#session = decodeSessionResponse(res);
    // The old token is dead now; keeping it registered would only slow down log scrubbing.
    if (previousToken !== this.#session.messageQueueAccessToken) forgetSecret(previousToken);
    this.#logger.debug({ sessionId: this.#session.sessionId }, 'message session refreshed');
    return this.#session;
  }

  /** §6.6: on 401, refresh the session once and repeat the call once with the new token. */
  async #withQueueToken(
    signal: AbortSignal | undefined,
    send: (session: RunnerScaleSetSession, token: Secret) => Promise<HttpResponse>,
  ): Promise<HttpResponse> {
    const first = await send(this.#session, queueToken(this.#session));
    if (first.status !== 401) return first;
    this.#logger.info(
      { sessionId: this.#session.sessionId },
      'message queue token rejected; refreshing session',
    );
    await this.#refresh(signal);
    const second = await send(this.#session, queueToken(this.#session));
    if (second.status === 401) {
      throw new MessageQueueTokenExpiredError(second.method, second.url, responseError(second));
    }
    return second;
  }

  #exclusive<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      if (this.#closed) throw new SessionClosedError(this.#session.sessionId);
      return fn();
    }, signal);
  }

  #sessionPath(): string {
    return `_apis/runtime/runnerscalesets/${pathSegment(this.scaleSetId)}/sessions/${pathSegment(this.#session.sessionId)}`;
  }
}

function queueToken(session: RunnerScaleSetSession): Secret {
  return new Secret(session.messageQueueAccessToken);
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`invalid ${name}: expected an integer ≥ 0, got ${value}`);
  }
}
