import { discardEvents, type EventSink } from '../events.js';
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
 * One message session's long-poll loop, in the order of docs/protocol.md §8.2.
 *
 * Where we differ from actions/scaleset on purpose: an error from the scaler is per event — logged,
 * counted and survived — because the message is already acknowledged and will not come again: returning
 * would drop the rest of the batch, and the runners of its remaining JobCompleted events would never be
 * removed. Errors from the session client (poll, ack, acquire) end `run()`
 * so the supervisor can reconnect.
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
      const msg = await this.#client.getMessage(this.#lastMessageId, this.#opts.maxCapacity(), signal);
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

    for (const job of msg.jobAvailable) emit({ type: 'job-available', scaleSet, at: this.#now(), job });
    for (const job of msg.jobAssigned) emit({ type: 'job-assigned', scaleSet, at: this.#now(), job });
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
