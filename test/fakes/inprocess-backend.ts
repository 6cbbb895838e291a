import type {
  BackendCapabilities,
  OwnedRunner,
  RunnerBackend,
  RunnerEvent,
  RunnerHandle,
  RunnerSpec,
} from '../../backends/types.js';

/**
 * A backend whose "runners" are async tasks in this process speaking the fake runner protocol
 * (test/fakes/CONTRACT.md) over HTTP: claim a job, wait its `sleep`, complete it. No container, so
 * protocol, listener and scaler tests (and the control-plane benchmark) measure our code, not Docker.
 */
export class InProcessBackend implements RunnerBackend {
  readonly kind = 'noop' as const;
  readonly resourceKind = 'container' as const;
  readonly capabilities: BackendCapabilities;
  readonly started: string[] = [];
  readonly removed: string[] = [];
  #runners = new Map<string, { ac: AbortController; state: 'running' | 'exited'; exitCode?: number }>();
  #waiters: ((e: RunnerEvent) => void)[] = [];
  #queue: RunnerEvent[] = [];
  /** Make the next N starts fail (tests of start-failure handling). */
  failNextStarts = 0;

  constructor(opts: { maxRunners?: number; jobTimeScale?: number } = {}) {
    this.capabilities = opts.maxRunners === undefined ? {} : { maxRunners: opts.maxRunners };
  }

  async prepare(): Promise<void> {}

  async start(spec: RunnerSpec): Promise<RunnerHandle> {
    if (this.failNextStarts > 0) {
      this.failNextStarts--;
      throw Object.assign(new Error('injected start failure'), { code: 'INJECTED' });
    }
    const url = runnerUrlOf(spec.jitConfig.reveal());
    const ac = new AbortController();
    const entry = { ac, state: 'running' as 'running' | 'exited', exitCode: undefined as number | undefined };
    this.#runners.set(spec.name, entry);
    this.started.push(spec.name);
    void this.#play(spec.name, url, ac.signal).then(
      (code) => this.#exit(spec.name, code),
      () => this.#exit(spec.name, 137),
    );
    return { name: spec.name, resourceId: `inproc-${spec.name}`, tier: 'cold' };
  }

  /** Kills a runner as `docker kill` would: mid-job the fake sees the lease drop. */
  kill(name: string): void {
    this.#runners.get(name)?.ac.abort(new Error('killed'));
  }

  async #play(name: string, url: string, signal: AbortSignal): Promise<number> {
    for (;;) {
      const res = await fetch(`${url}/claim`, { method: 'POST', signal });
      if (res.status === 204) continue;
      if (res.status === 410) return 1;
      if (res.status !== 200) throw new Error(`claim ${name}: HTTP ${res.status}`);
      const body = await res.text();
      const script = body.split('\n').slice(1).join('\n');
      const secs = /^\s*sleep\s+([0-9.]+)/.exec(script)?.[1];
      // The lease tells the fake the runner is alive while its job runs; a job that takes no time
      // completes before the fake's lease grace ends, so it goes without (a third of the HTTP per job).
      const lease = secs
        ? fetch(`${url}/lease`, { method: 'POST', signal }).catch(() => undefined)
        : undefined;
      if (secs)
        await new Promise((r, j) => {
          const t = setTimeout(r, Number(secs) * 1000);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            j(signal.reason);
          });
        });
      const exit = /exit\s+(\d+)/.exec(script)?.[1] ?? '0';
      const done = await fetch(`${url}/complete?exit=${exit}`, { method: 'POST', signal });
      await done.text();
      void lease;
      return 0;
    }
  }

  #exit(name: string, exitCode: number): void {
    const r = this.#runners.get(name);
    if (!r || r.state === 'exited') return;
    r.state = 'exited';
    r.exitCode = exitCode;
    const ev: RunnerEvent = { type: 'exited', name, resourceId: `inproc-${name}`, exitCode, at: new Date() };
    const w = this.#waiters.shift();
    if (w) w(ev);
    else this.#queue.push(ev);
  }

  async remove(name: string): Promise<void> {
    const r = this.#runners.get(name);
    if (!r) return;
    r.ac.abort(new Error('removed'));
    this.#runners.delete(name);
    this.removed.push(name);
  }

  async listOwned(): Promise<OwnedRunner[]> {
    return [...this.#runners.entries()].map(([name, r]) => ({
      name,
      resourceId: `inproc-${name}`,
      state: r.state,
      exitCode: r.exitCode,
    }));
  }

  async *events(signal: AbortSignal): AsyncIterable<RunnerEvent> {
    while (!signal.aborted) {
      const queued = this.#queue.shift();
      if (queued) {
        yield queued;
        continue;
      }
      const ev = await new Promise<RunnerEvent | undefined>((resolve) => {
        const waiter = (e: RunnerEvent) => {
          signal.removeEventListener('abort', onAbort);
          resolve(e);
        };
        // An aborted subscriber must not swallow the next event.
        const onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve(undefined);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(waiter);
      });
      if (ev) yield ev;
    }
  }

  listOwnedSync(): { name: string; state: string }[] {
    return [...this.#runners.entries()].map(([name, r]) => ({ name, state: r.state }));
  }

  poolStatus(): Record<string, number> {
    return {};
  }

  get live(): number {
    return [...this.#runners.values()].filter((r) => r.state === 'running').length;
  }

  async close(opts?: { removeAll?: boolean }): Promise<void> {
    if (opts?.removeAll) for (const name of [...this.#runners.keys()]) await this.remove(name);
  }
}

export function runnerUrlOf(encodedJit: string): string {
  const json = Buffer.from(encodedJit, 'base64').toString('utf8');
  const m = /"runnerUrl":"([^"]+)"/.exec(json);
  if (!m?.[1]) throw new Error('JIT config has no runnerUrl (not issued by the fake?)');
  return m[1];
}
