import type { ChildProcess } from 'node:child_process';
import type {
  BackendCapabilities,
  OwnedRunner,
  RunnerBackend,
  RunnerEvent,
  RunnerHandle,
  RunnerSpec,
} from '../../backends/types.js';
import type { FromWorld, Notice, Request, WireOwned } from './protocol.js';

type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * A RunnerBackend whose runners live in the world process (InProcessBackend there), reached over the
 * fork IPC channel. Costs the daemon about what a real backend's API call does (one small message
 * each way per start and removal), and keeps the runners' HTTP traffic out of the daemon's CPU time.
 */
export class RemoteBackend implements RunnerBackend {
  readonly kind = 'noop' as const;
  readonly resourceKind = 'container' as const;
  readonly capabilities: BackendCapabilities = {};
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #queue: RunnerEvent[] = [];
  #waiters: ((e: RunnerEvent | undefined) => void)[] = [];
  readonly #notices: ((n: Notice) => void)[] = [];

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: FromWorld) => this.#onMessage(m));
  }

  #onMessage(m: FromWorld): void {
    if (m.t === 'reply') {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
      return;
    }
    if (m.t === 'exited') {
      const ev: RunnerEvent = {
        type: 'exited',
        name: m.name,
        resourceId: m.resourceId,
        exitCode: m.exitCode,
        at: new Date(m.at),
      };
      const w = this.#waiters.shift();
      if (w) w(ev);
      else this.#queue.push(ev);
    }
    for (const fn of this.#notices) fn(m);
  }

  /** Sends a request to the world and resolves with its reply. */
  call<T>(req: WithoutId<Request>): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ ...req, id } as Request);
    });
  }

  /** Non-reply messages of the world (ready, exits, allCompleted). */
  onNotice(fn: (n: Notice) => void): void {
    this.#notices.push(fn);
  }

  async prepare(): Promise<void> {}

  async start(spec: RunnerSpec): Promise<RunnerHandle> {
    return this.call<RunnerHandle>({ t: 'start', name: spec.name, jit: spec.jitConfig.reveal() });
  }

  async remove(name: string): Promise<void> {
    await this.call({ t: 'remove', name });
  }

  async listOwned(): Promise<OwnedRunner[]> {
    return this.call<WireOwned[]>({ t: 'listOwned' });
  }

  async *events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    while (!signal.aborted) {
      const queued = this.#queue.shift();
      if (queued) {
        yield queued;
        continue;
      }
      const ev = await new Promise<RunnerEvent | undefined>((resolve) => {
        const onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve(undefined);
        };
        const waiter = (e: RunnerEvent | undefined) => {
          signal.removeEventListener('abort', onAbort);
          resolve(e);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(waiter);
      });
      if (ev) yield ev;
    }
  }

  poolStatus(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {}
}
