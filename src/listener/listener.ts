import { discardEvents, type EventSink } from '../events.js';
import type { UndecodableMessageError } from '../github/errors.js';
import type { RunnerScaleSetMessage, RunnerScaleSetStatistic } from '../github/types.js';
import { RunnerError } from '../kernel/errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { ListenerClient, Scaler } from './types.js';

export interface ListenerOptions {
  scaleSet: string;
  /** Advertised as X-ScaleSetMaxCapacity; read before every poll so changes apply to the next one. */
  maxCapacity: () => number;
  logger?: Logger;
  /** Statistics, polls, job messages (each before the scaler handles it) and the desired count. */
  emit?: EventSink;
  /** Clock of the events' `at` (ms epoch). */
  now?: () => number;
}

export class ListenerError extends RunnerError {
  readonly code = 'LISTENER_INVALID_SESSION' as const;
}

/**
 * How many times a message that cannot be decoded is received before it is acknowledged unread. More
 * than once, because a copy mangled on the way (a proxy, an incident at GitHub) reads fine the next
 * time; few, because a message that is broken at the source stays broken, and until it is acknowledged
 * every later message of the scale set waits behind it.
 */
export const UNDECODABLE_DELIVERIES = 3;

/**
 * One message session's long-poll loop, in the order of docs/protocol.md §8.2.
 *
 * Where we differ from actions/scaleset on purpose: an error from the scaler is per event — logged,
 * counted and survived — because the message is already acknowledged and will not come again: returning
 * would drop the rest of the batch, and the runners of its remaining JobCompleted events would never be
 * removed. Errors from the session client (poll, ack, acquire) end `run()`
 * so the supervisor can reconnect.
 *
 * A message that names its id but cannot be decoded does not end `run()`: reconnecting would only bring
 * it back (an unacknowledged message is redelivered), and the listener would cycle for ever while every
 * later job waits. It is polled for again, and on its UNDECODABLE_DELIVERIES-th arrival recorded (an
 * event the status and metrics count), logged with its id, and only then acknowledged. A job message
 * that cannot be decoded costs only itself: it is logged and counted, and the rest of its batch goes on.
 */
export class Listener {
  readonly #client: ListenerClient;
  readonly #scaler: Scaler;
  readonly #opts: ListenerOptions;
  readonly #log: Logger;
  readonly #emit: EventSink;
  readonly #now: () => number;
  readonly #set: string;
  #latest: RunnerScaleSetStatistic | undefined;
  #lastMessageId = 0;
  /**
   * Arrivals of each message that failed to decode and is not acknowledged yet. Not reset by a 202 or
   * by messages in between, so a broken message that comes back only now and then still reaches its
   * last arrival; bounded, since a message decoded fine on a later arrival leaves its entry behind.
   */
  readonly #undecodable = new Map<number, number>();
  /** Scaler errors survived since start; exposed for tests and status. */
  handlerErrors = 0;

  constructor(client: ListenerClient, scaler: Scaler, opts: ListenerOptions) {
    this.#client = client;
    this.#scaler = scaler;
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#emit = opts.emit ?? discardEvents;
    this.#now = opts.now ?? Date.now;
    this.#set = opts.scaleSet;
  }

  get lastMessageId(): number {
    return this.#lastMessageId;
  }

  /**
   * Polls until `signal` aborts (rejects with its reason) or the client fails (rejects with that error).
   * A message already received is always handled to the end, even after abort.
   */
  async run(signal: AbortSignal): Promise<never> {
    const session = this.#client.session;
    if (!session.sessionId) throw new ListenerError('initial session is nil');
    if (!session.statistics) throw new ListenerError('session statistics is nil');
    this.#latest = session.statistics;
    this.#emit({ type: 'statistics', scaleSet: this.#set, at: this.#now(), stats: this.#latest });
    await this.#desired(this.#latest.totalAssignedJobs, true);

    for (;;) {
      signal.throwIfAborted();
      let msg: RunnerScaleSetMessage | null;
      try {
        msg = await this.#client.getMessage(this.#lastMessageId, this.#opts.maxCapacity(), signal);
      } catch (err) {
        if (!isUndecodableMessage(err)) throw err;
        // The service answered: the listener is alive, whatever the answer held.
        this.#emit({ type: 'poll-succeeded', scaleSet: this.#set, at: this.#now() });
        await this.#handleUndecodable(err);
        continue;
      }
      this.#emit({ type: 'poll-succeeded', scaleSet: this.#set, at: this.#now() });
      if (msg === null) {
        await this.#desired(this.#latest.totalAssignedJobs, false);
        continue;
      }
      this.#lastMessageId = msg.messageId;
      // Deliberately not passed `signal`: shutdown must not cut a batch in half.
      await this.#handle(msg);
    }
  }

  /** Polls again for a fresh copy, or, on the last allowed arrival, records, logs and acknowledges it. */
  async #handleUndecodable(err: UndecodableMessageError): Promise<void> {
    const { messageId, reason } = err;
    const deliveries = (this.#undecodable.get(messageId) ?? 0) + 1;
    if (deliveries < UNDECODABLE_DELIVERIES) {
      if (this.#undecodable.size >= 64) this.#undecodable.clear();
      this.#undecodable.set(messageId, deliveries);
      this.#log.warn(
        { messageId, reason, deliveries },
        `message ${messageId} cannot be decoded (arrival ${deliveries} of ${UNDECODABLE_DELIVERIES}); polling for it again`,
      );
      return;
    }
    this.#undecodable.delete(messageId);
    // Recorded first: once acknowledged, GitHub forgets the message, and the status is what is left.
    this.#emit({ type: 'message-undecodable', scaleSet: this.#set, at: this.#now(), messageId, reason });
    this.#log.error(
      { messageId, reason, deliveries },
      `message ${messageId} cannot be decoded (${reason}), the same ${deliveries} times: acknowledging it unread so that later messages can come; the job events in it are lost, and the next message's statistics set the runner count again`,
    );
    await this.#client.deleteMessage(messageId);
    this.#lastMessageId = messageId;
  }

  async #handle(msg: RunnerScaleSetMessage): Promise<void> {
    const scaleSet = this.#set;
    const emit = this.#emit;
    this.#latest = msg.statistics;
    emit({ type: 'statistics', scaleSet, at: this.#now(), stats: msg.statistics });
    await this.#client.deleteMessage(msg.messageId);
    this.#log.debug(
      {
        messageId: msg.messageId,
        available: msg.jobAvailable.length,
        assigned: msg.jobAssigned.length,
        started: msg.jobStarted.length,
        completed: msg.jobCompleted.length,
        assignedJobs: msg.statistics.totalAssignedJobs,
      },
      'message',
    );

    for (const jobMessage of msg.invalidJobMessages) {
      emit({ type: 'job-message-invalid', scaleSet, at: this.#now(), messageId: msg.messageId, jobMessage });
      this.#log.error(
        { messageId: msg.messageId, ...jobMessage },
        `job message ${jobMessage.index} of message ${msg.messageId} cannot be decoded (${jobMessage.reason}); skipped, the rest of the batch goes on`,
      );
    }
    for (const job of msg.jobAvailable) emit({ type: 'job-available', scaleSet, at: this.#now(), job });
    for (const job of msg.jobAssigned) {
      emit({ type: 'job-assigned', scaleSet, at: this.#now(), job });
      const scaler = this.#scaler;
      if (scaler.handleJobAssigned)
        await this.#survive(
          'job assigned',
          undefined,
          () => scaler.handleJobAssigned?.(job) ?? Promise.resolve(),
        );
    }
    if (msg.jobAvailable.length > 0) {
      const ids = msg.jobAvailable.map((j) => j.runnerRequestId);
      const acquired = await this.#client.acquireJobs(ids);
      this.#log.debug({ requested: ids.length, acquired: acquired.length }, 'acquired jobs');
    }
    for (const job of msg.jobStarted) {
      emit({ type: 'job-started', scaleSet, at: this.#now(), job });
      await this.#survive('job started', job.runnerName, () => this.#scaler.handleJobStarted(job));
    }
    for (const job of msg.jobCompleted) {
      emit({ type: 'job-completed', scaleSet, at: this.#now(), job });
      await this.#survive('job completed', job.runnerName, () => this.#scaler.handleJobCompleted(job));
    }
    await this.#desired(msg.statistics.totalAssignedJobs, true);
  }

  /** `report`: false after a 202, which only repeats the last known count. */
  async #desired(count: number, report: boolean): Promise<void> {
    await this.#survive('desired runner count', undefined, async () => {
      const target = await this.#scaler.handleDesiredRunnerCount(count);
      if (report)
        this.#emit({ type: 'desired-runners', scaleSet: this.#set, at: this.#now(), count: target });
    });
  }

  async #survive(what: string, runner: string | undefined, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.handlerErrors++;
      this.#log.error(
        { err, runner },
        `scaler failed to handle ${what}; continuing with the rest of the batch`,
      );
    }
  }
}

function isUndecodableMessage(err: unknown): err is UndecodableMessageError {
  return err instanceof Error && (err as { code?: unknown }).code === 'UNDECODABLE_MESSAGE';
}
