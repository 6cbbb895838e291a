import type { FakeRoute } from './types.js';

export interface InjectedFault {
  route: FakeRoute | '*';
  status: number;
  times?: number;
  retryAfter?: string;
  body?: string;
  contentType?: string;
  bom?: boolean;
}

export type MalformedKind =
  | 'empty-body'
  | 'bad-json'
  | 'wrong-type'
  | 'null-statistics'
  | 'unknown-inner'
  | 'bom';

/** Fault switches; the server consults them on every request. */
export class FakeFaults {
  #injected: (InjectedFault & { left: number })[] = [];
  sessionConflicts = 0;
  pollsHeld = false;
  pollDrops = 0;
  isDown = false;
  malformed: MalformedKind[] = [];
  /** Set by the service: invalidates tokens. */
  onExpireQueueTokens: () => void = () => {};
  onExpireAdminTokens: () => void = () => {};
  onReleasePolls: () => void = () => {};

  inject(f: InjectedFault): void {
    this.#injected.push({ ...f, left: f.times ?? 1 });
  }

  /** The fault the next request on `route` must answer with, consuming one use. */
  take(route: FakeRoute | 'unknown'): InjectedFault | undefined {
    const i = this.#injected.findIndex((f) => f.left > 0 && (f.route === '*' || f.route === route));
    if (i < 0) return undefined;
    const f = this.#injected[i]!;
    f.left--;
    if (f.left <= 0) this.#injected.splice(i, 1);
    return f;
  }

  expireQueueTokens(): void {
    this.onExpireQueueTokens();
  }

  expireAdminTokens(): void {
    this.onExpireAdminTokens();
  }

  sessionConflict(times: number): void {
    this.sessionConflicts += times;
  }

  holdPolls(): void {
    this.pollsHeld = true;
  }

  releasePolls(): void {
    this.pollsHeld = false;
    this.onReleasePolls();
  }

  dropPolls(times: number): void {
    this.pollDrops += times;
  }

  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  malformedMessage(kind: MalformedKind): void {
    this.malformed.push(kind);
  }

  clear(): void {
    this.#injected = [];
    this.sessionConflicts = 0;
    this.pollsHeld = false;
    this.pollDrops = 0;
    this.isDown = false;
    this.malformed = [];
    this.onReleasePolls();
  }
}
