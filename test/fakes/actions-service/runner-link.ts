import type { ResolvedOptions } from './context.js';
import { type ClaimAnswer, claim, complete, jobOf, openLease, runnerAt } from './runner-side.js';
import type { FakeState } from './state.js';

export type { ClaimAnswer } from './runner-side.js';

/**
 * The fake runner protocol (CONTRACT.md) without HTTP, for runners that live in the fake's own process
 * (the throughput benchmark's world): the same claim → lease → complete against the same job model, so
 * jobs start and complete, statistics move and job messages are queued exactly as over HTTP. Answers
 * mirror the HTTP statuses: a job (200), `none` (204), `gone` (410), `busy`/`no-job`/`refused` (409).
 * Like the HTTP runner routes, links are not requests of the service: neither recorded nor hit by faults.
 */
export interface FakeRunnerLink {
  readonly runnerId: number;
  /** `POST /claim`: waits for the runner's next job. Aborting `signal` is the runner going away (→ `none`). */
  claim(signal?: AbortSignal): Promise<ClaimAnswer>;
  /**
   * `POST /lease`: held while the job runs; resolves `ended` when the fake ends it (the job is over), or
   * at once `refused`/`no-job`/`gone`. Aborting `signal` first drops the lease: the job fails.
   */
  lease(signal?: AbortSignal): Promise<'ended' | 'dropped' | 'refused' | 'no-job' | 'gone'>;
  /** `POST /complete?exit=<code>`: exit 0 succeeds the job, anything else fails it. */
  complete(exitCode: number): Promise<'ok' | 'no-job' | 'gone'>;
}

/** The runner URL in a JIT config the fake issued: `…/_fake/runners/<id>/<secret>`. */
export function parseRunnerJit(encodedJit: string): { id: number; secret: string } {
  const json = Buffer.from(encodedJit, 'base64').toString('utf8');
  const m = /"runnerUrl":"[^"]*\/_fake\/runners\/(\d+)\/([0-9a-f]+)"/.exec(json);
  if (!m) throw new Error('JIT config has no fake runner URL (not issued by this fake?)');
  return { id: Number(m[1]), secret: m[2]! };
}

export function runnerLink(state: FakeState, opts: ResolvedOptions, encodedJit: string): FakeRunnerLink {
  const { id, secret } = parseRunnerJit(encodedJit);
  return {
    runnerId: id,
    async claim(signal) {
      const r = runnerAt(state, id, secret);
      if (!r) return 'gone';
      if (signal?.aborted) throw signal.reason;
      const c = claim(state, opts, r);
      if (!signal) return c.answer;
      const onAbort = () => c.drop();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await c.answer;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    async lease(signal) {
      const r = runnerAt(state, id, secret);
      if (!r) return 'gone';
      const job = jobOf(state, r);
      if (!job) return 'no-job';
      if (signal?.aborted) throw signal.reason;
      let ended!: () => void;
      const over = new Promise<'ended'>((resolve) => {
        ended = () => resolve('ended');
      });
      const lease = openLease(state, job, ended);
      if (!lease) return 'refused';
      state.changed();
      if (!signal) {
        await over;
        lease.closed(true);
        return 'ended';
      }
      let onAbort = () => {};
      const dropped = new Promise<'dropped'>((resolve) => {
        onAbort = () => resolve('dropped');
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const how = await Promise.race([over, dropped]);
      signal.removeEventListener('abort', onAbort);
      lease.closed(how === 'ended');
      return how;
    },
    async complete(exitCode) {
      const r = runnerAt(state, id, secret);
      if (!r) return 'gone';
      const job = jobOf(state, r);
      if (!job) return 'no-job';
      complete(state, job, exitCode);
      return 'ok';
    },
  };
}
