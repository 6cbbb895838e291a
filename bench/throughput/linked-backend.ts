import type {
  BackendCapabilities,
  OwnedRunner,
  RunnerBackend,
  RunnerEvent,
  RunnerHandle,
  RunnerSpec,
} from '../../backends/types.js';
import type { FakeActionsService, FakeRunnerLink } from '../../test/fakes/actions-service/index.js';

interface Runner {
  ac: AbortController;
  state: 'running' | 'exited';
  exitCode?: number;
}

/** One reason for every removal: an Error per abort would cost a stack trace per runner. */
const REMOVED = new Error('removed');

/**
 * The world's runners: async tasks in the fake's own process that play the fake runner protocol
 * (claim → [lease] → complete) through the fake's in-process runner link instead of HTTP. Jobs still
 * start and complete in the fake's job model (statistics, JobStarted/JobCompleted messages, the
 * registration removed on completion), exactly as over HTTP; only the runner's own transport, which is
 * no part of what the benchmark measures, is skipped. Same behaviour as test/fakes/inprocess-backend.ts.
 */
export class LinkedBackend implements RunnerBackend {
  readonly kind = 'noop' as const;
  readonly resourceKind = 'container' as const;
  readonly capabilities: BackendCapabilities = {};
  readonly #fake: FakeActionsService;
  readonly #runners = new Map<string, Runner>();
  #waiters: ((e: RunnerEvent) => void)[] = [];
  #queue: RunnerEvent[] = [];

  constructor(fake: FakeActionsService) {
    this.#fake = fake;
  }

  async prepare(): Promise<void> {}

  async start(spec: RunnerSpec): Promise<RunnerHandle> {
    const link = this.#fake.runnerLink(spec.jitConfig.reveal());
    const runner: Runner = { ac: new AbortController(), state: 'running' };
    this.#runners.set(spec.name, runner);
    play(link, runner.ac.signal).then(
      (code) => this.#exit(spec.name, runner, code),
      () => this.#exit(spec.name, runner, 137),
    );
    return { name: spec.name, resourceId: `inproc-${spec.name}`, tier: 'cold' };
  }

  #exit(name: string, r: Runner, exitCode: number): void {
    if (r.state === 'exited') return;
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
    if (r.state === 'running') r.ac.abort(REMOVED);
    this.#runners.delete(name);
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

  poolStatus(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {}
}

/** What run.sh does (CONTRACT.md), with the job's `sleep` as a timer: returns the runner's exit code. */
async function play(link: FakeRunnerLink, signal: AbortSignal): Promise<number> {
  for (;;) {
    const job = await link.claim(signal);
    if (signal.aborted) throw signal.reason;
    if (job === 'none') continue;
    if (job === 'gone') return 1;
    if (job === 'busy') throw new Error(`claim: runner ${link.runnerId} already has a job`);
    const secs = /^\s*sleep\s+([0-9.]+)/.exec(job.script)?.[1];
    // A job that takes no time completes before the fake's lease grace ends, so it goes without a lease.
    if (secs) {
      const lease = link.lease(signal);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, Number(secs) * 1000);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(signal.reason);
          },
          { once: true },
        );
      });
      void lease;
    }
    const exit = /exit\s+(\d+)/.exec(job.script)?.[1] ?? '0';
    await link.complete(Number(exit));
    return 0;
  }
}
