import type { ResolvedOptions } from './context.js';
import { completeJob } from './jobs.js';
import type { FakeState } from './state.js';
import type { FakeJob, FakeRunner } from './types.js';

/*
 * The service side of the fake runner protocol (CONTRACT.md: claim → lease → complete), apart from its
 * transport: the HTTP routes (runner-routes.ts) and in-process runner links (runner-link.ts) both drive
 * the job model through these, so either way a job starts and ends exactly as it does at the service.
 */

export type ClaimAnswer = { requestId: number; script: string } | 'none' | 'gone' | 'busy';

/** The registration a runner URL names: its id and the secret only its JIT config holds. */
export function runnerAt(state: FakeState, id: number, secret: string): FakeRunner | undefined {
  const r = state.runners.get(id);
  return r && r.secret === secret ? r : undefined;
}

/** The job now running on the runner. */
export function jobOf(state: FakeState, r: FakeRunner): FakeJob | undefined {
  return r.jobRequestId === undefined ? undefined : state.jobs.get(r.jobRequestId);
}

/**
 * A claim: the runner is online (idle) and waits up to `runnerClaimHoldMs` for the oldest assigned job of
 * its scale set. `answer`: the job started on it, `none` when the hold ended (claim again), `gone` when
 * its registration was removed, `busy` when it already has a job. `drop()`: the runner went away while
 * waiting (its claim is withdrawn, answers `none`, and the runner, still registered, is offline).
 */
export function claim(
  state: FakeState,
  opts: Pick<ResolvedOptions, 'runnerClaimHoldMs' | 'leaseGraceMs'>,
  r: FakeRunner,
): { answer: Promise<ClaimAnswer>; drop(): void } {
  if (r.status === 'busy') return { answer: Promise.resolve('busy'), drop: () => {} };
  r.status = 'idle';
  state.changed();
  let settle!: (a: ClaimAnswer) => void;
  const answer = new Promise<ClaimAnswer>((resolve) => {
    settle = resolve;
  });
  const cancel = state.claims.hold(r, opts.runnerClaimHoldMs, (job) => {
    if (job === 'gone') return settle('gone');
    if (job === undefined) return settle('none');
    // A runner that dies between claim and lease would otherwise leave the job running forever.
    state.later(opts.leaseGraceMs, () => {
      if (job.state === 'started' && !job.leased) completeJob(state, job, 'failed');
    });
    settle({ requestId: job.requestId, script: job.script });
  });
  const drop = () => {
    cancel();
    settle('none');
    // Still registered, but nobody is there.
    if (state.runners.has(r.id) && r.status === 'idle') {
      r.status = 'offline';
      state.changed();
    }
  };
  return { answer, drop };
}

/**
 * Opens the lease of a started job: `end` is called when the fake ends it (the job is over). Undefined
 * when the job is not waiting for a lease. The transport calls `closed(ended)` when the lease goes away:
 * not ended by the fake means the runner died mid-job, and the job fails. The caller announces the change.
 */
export function openLease(
  state: FakeState,
  job: FakeJob,
  end: () => void,
): { closed(ended: boolean): void } | undefined {
  if (job.state !== 'started' || job.leased) return undefined;
  job.leased = true;
  const entry = { end };
  state.leases.set(job.requestId, entry);
  return {
    closed(ended) {
      if (state.leases.get(job.requestId) === entry) state.leases.delete(job.requestId);
      if (!ended) completeJob(state, job, 'failed');
    },
  };
}

/** `/complete?exit=<code>`: the job succeeded (0) or failed; the ephemeral registration goes away. */
export function complete(state: FakeState, job: FakeJob, exitCode: number): void {
  completeJob(state, job, exitCode === 0 ? 'succeeded' : 'failed');
}
