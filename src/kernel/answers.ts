import { type Clock, systemClock } from './clock.js';

/** How one call to a remote ended, as far as "does it answer" goes. */
export type CallOutcome =
  /** Any answer, an error answer included (a 404 or a non-zero exit proves the remote is there). */
  | { kind: 'answered' }
  /** No answer: a deadline passed, the connection was refused or broke, the process could not start. */
  | { kind: 'unanswered'; error: string }
  /** The caller gave up (shutdown, a cancelled start): says nothing about the remote. */
  | { kind: 'cancelled' };

/** Since when a remote has answered nothing, and the last error seen meanwhile. */
export interface Silence {
  /** Epoch ms: when the first call that is still unanswered, or got no answer, was sent. */
  since: number;
  lastError?: string;
}

/**
 * Whether a remote (a Docker engine, the tart CLI, an HTTP API) still answers. Each call reports when
 * it is sent and how it ended. The remote is silent from the first call sent after its last answer
 * that has not been answered — a call still waiting counts from when it was sent, so an engine that
 * accepts connections and never replies is silent long before any call's deadline — until any call is
 * answered. A call that waits while others are answered is merely slow, not silence.
 */
export class AnswerWatch {
  readonly #clock: Pick<Clock, 'now'>;
  #lastAnswer = Number.NEGATIVE_INFINITY;
  /** Earliest send time of a call that ended unanswered since the last answer. */
  #unansweredSince: number | undefined;
  #lastError: string | undefined;
  readonly #waiting = new Map<number, number>();
  #seq = 0;

  constructor(clock: Pick<Clock, 'now'> = systemClock) {
    this.#clock = clock;
  }

  /** Marks a call sent; call the returned function once, with how it ended. */
  sent(): (outcome: CallOutcome) => void {
    const id = ++this.#seq;
    const sentAt = this.#clock.now();
    this.#waiting.set(id, sentAt);
    return (outcome) => {
      if (!this.#waiting.delete(id)) return;
      if (outcome.kind === 'answered') {
        this.#lastAnswer = this.#clock.now();
        this.#unansweredSince = undefined;
        this.#lastError = undefined;
      } else if (outcome.kind === 'unanswered') {
        this.#lastError = outcome.error;
        if (sentAt >= this.#lastAnswer)
          this.#unansweredSince = Math.min(this.#unansweredSince ?? sentAt, sentAt);
      }
    };
  }

  /** Runs `call`, reporting its end as `classify` says (a resolved call is an answer). */
  async track<T>(call: () => Promise<T>, classify: (err: unknown) => CallOutcome): Promise<T> {
    const done = this.sent();
    try {
      const value = await call();
      done({ kind: 'answered' });
      return value;
    } catch (err) {
      done(classify(err));
      throw err;
    }
  }

  /** Undefined while the remote answers; else since when it has not. */
  silence(): Silence | undefined {
    let since = this.#unansweredSince;
    for (const sentAt of this.#waiting.values()) {
      // Sent at the very moment of the last answer still counts: that answer was to another call.
      if (sentAt >= this.#lastAnswer && (since === undefined || sentAt < since)) since = sentAt;
    }
    if (since === undefined) return undefined;
    return this.#lastError === undefined ? { since } : { since, lastError: this.#lastError };
  }
}
