export type FakeRoute =
  | 'machines.create'
  | 'machines.list'
  | 'machines.retrieve'
  | 'machines.update'
  | 'machines.delete'
  | 'machines.sleep'
  | 'machines.wake'
  | 'machines.watch'
  | 'executions.create'
  | 'executions.list'
  | 'executions.retrieve'
  | 'executions.delete'
  | 'executions.events'
  | 'executions.output'
  | 'usage.compute';

export interface FaultSpec {
  route: FakeRoute | '*';
  /** 409, 429, 503, … (ignored for 'drop-response'). */
  status?: number;
  /** How many matching requests it hits (default 1). */
  times?: number;
  /**
   * 'error' (default): answer `status` without doing anything.
   * 'drop-response': do the work (and remember the idempotent answer), then cut the connection, as a
   * network failure after the server committed would. The client's resend must get the same answer.
   */
  kind?: 'error' | 'drop-response';
  errorCode?: string;
  retryable?: boolean;
  /** `retry_after_ms` in the body. */
  retryAfterMs?: number;
  /** `details` in the body (strings, as documented). */
  details?: Record<string, string>;
  /** Answer this many ms late (a slow gateway): the request is recorded at once, with status 0 meanwhile. */
  delayMs?: number;
  /** Raw `Retry-After` header (seconds or HTTP-date). */
  retryAfter?: string;
  /** Raw `retry-after-ms` header. */
  retryAfterMsHeader?: string;
}

/** Queued fault answers, consumed in order by the first matching request. */
export class FakeFaults {
  #queue: (FaultSpec & { left: number })[] = [];

  inject(f: FaultSpec): void {
    this.#queue.push({ ...f, left: f.times ?? 1 });
  }

  take(route: FakeRoute): FaultSpec | undefined {
    const f = this.#queue.find((q) => q.left > 0 && (q.route === '*' || q.route === route));
    if (!f) return undefined;
    f.left--;
    this.#queue = this.#queue.filter((q) => q.left > 0);
    return f;
  }

  clear(): void {
    this.#queue = [];
  }

  get pending(): number {
    return this.#queue.reduce((n, q) => n + q.left, 0);
  }
}
