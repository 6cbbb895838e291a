import type { FakeRoute } from './types.js';

export interface InjectedFault {
  route: FakeRoute | '*';
  status: number;
  /** Default 1. */
  times?: number;
  retryAfter?: string;
  /** Raw body; default a JSON exception `{typeName, message}`. */
  body?: string;
  contentType?: string;
  /** Prefix the body with a UTF-8 byte order mark. */
  bom?: boolean;
  /**
   * An origin (`http://localhost:PORT`) to send the client to with `status` (a 3xx): the answer carries
   * `Location: <redirectTo><the request's path and query>`.
   */
  redirectTo?: string;
}

export type MalformedKind =
  | 'empty-body'
  | 'bad-json'
  | 'wrong-type'
  | 'null-statistics'
  | 'unknown-inner'
  | 'bom'
  /** An integer past 2^63 in a field nobody reads, in the envelope and in every job message. */
  | 'unsafe-unknown-field'
  /** The first job message's runnerRequestId past 2^53 (a field every client uses); the rest intact. */
  | 'unsafe-used-field'
  /** Id, type and statistics fine; the body is JSON but not an array. */
  | 'undecodable-body';

/**
 * Fault switches (CONTRACT.md). The server consults them on every request; the hooks let the service
 * act at once where a switch changes state (tokens, held polls, open connections).
 */
export class FakeFaults {
  #injected: (InjectedFault & { left: number })[] = [];
  sessionConflicts = 0;
  pollsHeld = false;
  pollDrops = 0;
  isDown = false;
  /** Routes whose requests are read and never answered (see stall). */
  readonly stalled = new Set<FakeRoute | '*'>();
  malformed: MalformedKind[] = [];
  /** Kinds waiting for the next message delivered, to break it on every delivery (`poisonMessage`). */
  #poison: MalformedKind[] = [];
  /** Messages broken on every delivery until acked, by id. */
  readonly #poisoned = new Map<number, MalformedKind>();
  onExpireQueueTokens: () => void = () => {};
  onExpireAdminTokens: () => void = () => {};
  /** Wakes held polls. */
  onReleasePolls: () => void = () => {};
  /** Cuts the connections already open (a held long poll must fail too when the service goes away). */
  onDown: () => void = () => {};
  /** Undoes what the hooks above changed (the admin token lifetime). */
  onClear: () => void = () => {};

  /** The next `times` requests on `route` (any route for '*') answer `status`. Earlier injections win. */
  inject(f: InjectedFault): void {
    this.#injected.push({ ...f, left: f.times ?? 1 });
  }

  /** The fault the current request must answer with, consuming one use. */
  take(route: FakeRoute): InjectedFault | undefined {
    const i = this.#injected.findIndex((f) => f.route === '*' || f.route === route);
    if (i < 0) return undefined;
    const f = this.#injected[i]!;
    f.left--;
    if (f.left <= 0) this.#injected.splice(i, 1);
    return f;
  }

  /** Every current queue token becomes invalid: the next queue or acquire call gets 401. */
  expireQueueTokens(): void {
    this.onExpireQueueTokens();
  }

  /** Current admin JWTs become invalid (401), and new ones expire 30 s after issue until `clear()`. */
  expireAdminTokens(): void {
    this.onExpireAdminTokens();
  }

  sessionConflict(times: number): void {
    this.sessionConflicts += times;
  }

  /** Long polls stop answering (messages and 202 alike) until `releasePolls()` or close. */
  holdPolls(): void {
    this.pollsHeld = true;
  }

  releasePolls(): void {
    this.pollsHeld = false;
    this.onReleasePolls();
  }

  /** The next `times` long polls lose their connection without a response. */
  dropPolls(times: number): void {
    this.pollDrops += times;
  }

  /** Every service request (not the fake runner's) has its connection destroyed until `up()`. */
  down(): void {
    this.isDown = true;
    this.onDown();
  }

  up(): void {
    this.isDown = false;
  }

  /**
   * Requests on `route` (every service route for '*') are accepted, read and never answered, as by a
   * service that hangs: the client has to give up on its own. Until `unstall()`, `clear()` or close.
   */
  stall(route: FakeRoute | '*'): void {
    this.stalled.add(route);
  }

  /** New requests are answered again (ones already held stay unanswered: their clients gave up or will). */
  unstall(): void {
    this.stalled.clear();
  }

  /** The next 200 from the queue is malformed this way (see queue-routes.ts). */
  malformedMessage(kind: MalformedKind): void {
    this.malformed.push(kind);
  }

  /**
   * The next message delivered is broken this way on that delivery and every later one, until it is
   * acked: a message broken at the source, which no number of redeliveries repairs.
   */
  poisonMessage(kind: MalformedKind): void {
    this.#poison.push(kind);
  }

  /** How the delivery of `messageId` about to go out is broken, if at all (consumes one-shot faults). */
  malformedFor(messageId: number): MalformedKind | undefined {
    const poisoned = this.#poisoned.get(messageId);
    if (poisoned) return poisoned;
    const poison = this.#poison.shift();
    if (poison) {
      this.#poisoned.set(messageId, poison);
      return poison;
    }
    return this.malformed.shift();
  }

  /** An acked message is gone; so is its poison. */
  acked(messageId: number): void {
    this.#poisoned.delete(messageId);
  }

  clear(): void {
    this.#injected = [];
    this.sessionConflicts = 0;
    this.pollDrops = 0;
    this.isDown = false;
    this.stalled.clear();
    this.malformed = [];
    this.#poison = [];
    this.#poisoned.clear();
    this.releasePolls();
    this.onClear();
  }
}
