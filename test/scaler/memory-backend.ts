import type {
  BackendCapabilities,
  OwnedRunner,
  ResourceKind,
  RunnerBackend,
  RunnerEvent,
  RunnerHandle,
  RunnerSpec,
} from '../../backends/types.js';

/** A controllable in-memory backend for scaler logic tests: starts can be held, failed or exited. */
export class MemoryBackend implements RunnerBackend {
  readonly kind = 'noop' as const;
  /** What the scaler reports as cleaned up when it removes a runner; tests may pretend another. */
  resourceKind: ResourceKind = 'container';
  capabilities: BackendCapabilities = {};
  readonly resources = new Map<string, OwnedRunner>();
  readonly calls: string[] = [];
  failStarts = 0;
  /** The next this-many removals fail (an engine error), leaving the resource in place. */
  failRemoves = 0;
  /** While set, starts wait for `release()`. */
  #hold: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #listeners = new Set<(e: RunnerEvent) => void>();
  maxConcurrentStarts = 0;
  #inflight = 0;

  hold(): void {
    this.#hold = new Promise((r) => {
      this.#release = r;
    });
  }

  release(): void {
    this.#release?.();
    this.#hold = undefined;
  }

  async prepare(): Promise<void> {}

  async start(spec: RunnerSpec): Promise<RunnerHandle> {
    this.calls.push(`start ${spec.name}`);
    this.#inflight++;
    this.maxConcurrentStarts = Math.max(this.maxConcurrentStarts, this.#inflight);
    try {
      if (this.#hold) await this.#hold;
      if (this.failStarts > 0) {
        this.failStarts--;
        throw Object.assign(new Error('boom'), { code: 'BOOM' });
      }
      this.resources.set(spec.name, {
        name: spec.name,
        resourceId: `res-${spec.name}`,
        state: 'running',
        runnerId: spec.runnerId,
      });
      return { name: spec.name, resourceId: `res-${spec.name}`, tier: 'cold' };
    } finally {
      this.#inflight--;
    }
  }

  /** The runner process ends (after a job, or by dying). */
  exit(name: string, exitCode = 0): void {
    const r = this.resources.get(name);
    if (!r) return;
    r.state = 'exited';
    r.exitCode = exitCode;
    for (const l of this.#listeners)
      l({ type: 'exited', name, resourceId: r.resourceId, exitCode, at: new Date() });
  }

  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    if (this.failRemoves > 0) {
      this.failRemoves--;
      throw Object.assign(new Error('Could not kill running container'), { statusCode: 500 });
    }
    this.resources.delete(name);
  }

  async listOwned(): Promise<OwnedRunner[]> {
    return [...this.resources.values()].map((r) => ({ ...r }));
  }

  async *events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    const queue: RunnerEvent[] = [];
    let wake: (() => void) | undefined;
    const l = (e: RunnerEvent) => {
      queue.push(e);
      wake?.();
    };
    this.#listeners.add(l);
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const e = queue.shift();
        if (e) {
          yield e;
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    } finally {
      this.#listeners.delete(l);
      signal.removeEventListener('abort', onAbort);
    }
  }

  poolStatus(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {}
}
