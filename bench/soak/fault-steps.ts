import { inspectStateDirLock } from '../../src/state/state-dir-lock.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { freePort } from '../../test/e2e/support/daemon-files.js';
import type { DaemonProcess } from '../../test/e2e/support/daemon-process.js';
import type { E2eEnv } from '../../test/e2e/support/e2e-env.js';
import type { DockerProxy } from '../../test/setup/docker-proxy.js';
import type { Tmpfs } from '../../test/setup/tmpfs.js';

/**
 * The faults of a daemon's surroundings the soak injects mid-run, beyond GitHub's and Docker's own
 * (issue 13, "prove it stays boring"): its log reader dying, a second daemon on its state-dir, a full
 * disk under its state-dir, and a Docker engine that accepts connections and never answers. Each
 * step waits for the daemon to show it noticed (an event or a poll-until, never a sleep), holds the
 * fault for its length, undoes it, and returns what it saw; `problems` lists everything that went
 * against the contract (the soak turns them into failed checks).
 */

export interface StepResult {
  /** One line for the soak's timeline. */
  summary: string;
  problems: string[];
}

const NOTE_ON_STDOUT = 'log destination failed; logging continues on stdout';

/**
 * The reader of the daemon's stderr goes away (a `tee` killed by Ctrl-C, a fifo's reader gone): its
 * next write there fails with EPIPE, and it must note the switch once on stdout and go on.
 */
export async function closeLogPipe(daemon: DaemonProcess): Promise<StepResult> {
  daemon.closePipe('stderr');
  const problems: string[] = [];
  // At debug level the daemon logs every poll: the note comes with the next one.
  const note = await daemon
    .waitForLog((l) => l.stream === 'stdout' && l.json?.msg === NOTE_ON_STDOUT, {
      what: 'the note about the broken stderr, on stdout',
      timeout: 60_000,
    })
    .catch((err: unknown) => {
      problems.push(String(err).split('\n')[0] ?? '');
      return undefined;
    });
  if (note && note.json?.error !== 'EPIPE') problems.push(`the note says ${JSON.stringify(note.json)}`);
  if (daemon.exit) problems.push(`the daemon exited: ${JSON.stringify(daemon.exit)}`);
  return { summary: `stderr closed; ${note ? 'noted on stdout' : 'no note'}`, problems };
}

/** How long a refused second daemon may take: its start-up (Node, the config) and one lock round. */
export const SECOND_DAEMON_BOUND_MS = 15_000;

/**
 * A second `runner run` on the same config and state-dir (another health port): refused at once with
 * exit 1, naming the first daemon's pid, having done nothing else; the first goes on untouched.
 */
export async function secondDaemon(env: E2eEnv, first: DaemonProcess): Promise<StepResult> {
  // The first may have just been (re)started: a second one racing it for the lock could win it, which
  // is the lock working, not the fault this step injects.
  await pollUntil(
    async () => {
      const lock = await inspectStateDirLock(env.stateDir);
      return lock.state === 'held' && !lock.taking && lock.holder.pid === first.pid;
    },
    { what: 'the first daemon holding the state-dir lock', timeout: 30_000, interval: 50 },
  );
  const t0 = Date.now();
  const second = await env.startDaemon({ env: { RUNNER_HEALTH_PORT: String(await freePort()) } });
  const exit = await second
    .waitForExit(SECOND_DAEMON_BOUND_MS)
    .catch((err: unknown) => ({ error: String(err).split('\n')[0] }));
  const ms = Date.now() - t0;
  const problems: string[] = [];
  if (!('code' in exit) || exit.code !== 1) problems.push(`second daemon: exit ${JSON.stringify(exit)}`);
  const errors = second.lines.filter((l) => l.json?.level === 'error');
  const refusal = `is in use by pid ${first.pid} (runner run, since `;
  if (errors.length !== 1 || !String(errors[0]?.json?.msg).includes(refusal))
    problems.push(`second daemon's refusal: ${errors.map((l) => l.raw).join(' | ') || 'none'}`);
  // The lock is taken before anything touches GitHub or a backend: refused there, it did nothing else.
  if (second.logs('runner started').length > 0) problems.push('the second daemon started');
  if (first.exit) problems.push(`the first daemon exited: ${JSON.stringify(first.exit)}`);
  return { summary: `second daemon refused in ${ms} ms (exit ${JSON.stringify(exit)})`, problems };
}

export interface FullDiskResult extends StepResult {
  /** From the fill to the daemon reporting the outage in /api/status. */
  reportedAfterMs: number;
  /** From freeing the space to the outage gone from /api/status. */
  recoveredAfterMs: number;
  /** Jobs waiting (queued or assigned, no runner yet) when the space came back. */
  jobsHeld: number;
}

/**
 * The disk under the state-dir fills (a tmpfs filled to its last byte): the ledger write that follows
 * fails with ENOSPC. The daemon must report it (/api/status and /healthz name the state file, the log
 * says so once), start no runner it has not begun before it knew (a registration the ledger cannot
 * record is one nobody could find after a crash), keep the runners it has, and pick up again once a
 * retried write succeeds after the space is back.
 */
export async function fillStateDisk(
  env: E2eEnv,
  daemon: DaemonProcess,
  disk: Tmpfs,
  holdMs: number,
): Promise<FullDiskResult> {
  const problems: string[] = [];
  const t0 = Date.now();
  await disk.fill();
  // The next ledger write fails: the next start or removal, within moments while jobs flow.
  const seen = await pollUntil(
    async () => {
      const s = await env.status().catch(() => undefined);
      const set = s?.scaleSets[0];
      return set?.stateFile ? { status: s!, set } : undefined;
    },
    { what: 'the state-file outage in /api/status', timeout: 60_000, interval: 100 },
  );
  const reportedAfterMs = Date.now() - t0;
  if (!/ENOSPC/.test(seen.set.stateFile?.error ?? ''))
    problems.push(`status says ${JSON.stringify(seen.set.stateFile)}`);
  const health = await healthz(env);
  if (health.status !== 503 || !/^state file not writable for \d+s \(ENOSPC/.test(health.reason ?? ''))
    problems.push(`/healthz during the outage: ${health.status} ${health.reason}`);

  // Every runner the daemon had begun when the outage was set is in this snapshot; a registration of
  // any other name while the disk is full is a start begun during the outage.
  const known = new Set(seen.set.runners.map((r) => r.name));
  for (const r of env.fake.runners()) known.add(r.name);
  const startedDuring: string[] = [];
  const off = env.fake.onChange(() => {
    for (const r of env.fake.runners())
      if (!known.has(r.name) && !startedDuring.includes(r.name)) startedDuring.push(r.name);
  });
  try {
    // The fault's length, not a synchronisation: demand keeps coming meanwhile.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, holdMs - (Date.now() - t0))));
  } finally {
    off();
  }
  const jobsHeld = env.fake
    .jobs()
    .filter((j) => j.state === 'available' || j.state === 'acquired' || j.state === 'assigned').length;
  if (startedDuring.length > 0)
    problems.push(
      `runners registered while the state file could not be written: ${startedDuring.join(', ')}`,
    );

  const freedAt = Date.now();
  await disk.free();
  await pollUntil(
    async () => (await env.status().catch(() => undefined))?.scaleSets[0]?.stateFile === undefined,
    {
      what: 'the state-file outage over',
      timeout: 60_000,
      interval: 100,
    },
  ).catch((err: unknown) => problems.push(String(err).split('\n')[0] ?? ''));
  const recoveredAfterMs = Date.now() - freedAt;
  const began = daemon.lines.filter((l) => String(l.json?.msg).startsWith('cannot write the state file'));
  const ended = daemon.lines.filter((l) => String(l.json?.msg).startsWith('state file written again after'));
  if (began.length !== 1 || ended.length !== 1)
    problems.push(
      `outage logged ${began.length} time(s) and its end ${ended.length} time(s); want once each`,
    );
  return {
    summary: `disk full for ${Math.round((Date.now() - t0) / 1000)} s: reported after ${reportedAfterMs} ms, ${jobsHeld} jobs waiting, written again ${recoveredAfterMs} ms after the space came back`,
    problems,
    reportedAfterMs,
    recoveredAfterMs,
    jobsHeld,
  };
}

export interface EngineStallResult extends StepResult {
  /** From the stall to /healthz naming it. */
  namedAfterMs: number;
  /** From the recovery to /healthz no longer naming it. */
  clearedAfterMs: number;
  /** Requests the engine held unanswered when it recovered (their clients still waiting). */
  heldAtRecovery: number;
}

/**
 * The engine accepts connections and never answers for `stallMs`, then answers again. The daemon must
 * name the stall in /healthz, give up each call at its deadline (no call waits for the recovery), and
 * carry on after it; the soak's end checks then prove nothing was lost or leaked meanwhile.
 */
export async function stallEngine(
  env: E2eEnv,
  proxy: DockerProxy,
  stallMs: number,
): Promise<EngineStallResult> {
  const problems: string[] = [];
  const t0 = Date.now();
  proxy.stall();
  const stalled = /^backend docker not answering for \d+s/;
  let namedAfterMs = -1;
  try {
    await pollUntil(async () => stalled.test((await healthz(env)).reason ?? ''), {
      what: '/healthz naming the stalled engine',
      timeout: Math.max(30_000, stallMs),
      interval: 250,
    });
    namedAfterMs = Date.now() - t0;
  } catch (err) {
    problems.push(String(err).split('\n')[0] ?? '');
  }
  // The fault's length: the daemon goes on with what it has meanwhile.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, stallMs - (Date.now() - t0))));
  const heldAtRecovery = proxy.waiting;
  proxy.recover();
  const recoveredAt = Date.now();
  let clearedAfterMs = -1;
  try {
    await pollUntil(async () => !stalled.test((await healthz(env)).reason ?? ''), {
      what: '/healthz no longer naming the stall',
      timeout: 60_000,
      interval: 250,
    });
    clearedAfterMs = Date.now() - recoveredAt;
  } catch (err) {
    problems.push(String(err).split('\n')[0] ?? '');
  }
  return {
    summary: `engine stalled ${Math.round(stallMs / 1000)} s: named after ${namedAfterMs} ms, ${heldAtRecovery} requests still held at recovery, cleared ${clearedAfterMs} ms after`,
    problems,
    namedAfterMs,
    clearedAfterMs,
    heldAtRecovery,
  };
}

/** /healthz's status and the first scale set's reason. */
async function healthz(env: E2eEnv): Promise<{ status: number; reason: string | undefined }> {
  const res = await fetch(`http://127.0.0.1:${env.healthPort}/healthz`);
  const body = (await res.json()) as { scaleSets: { reason?: string }[] };
  return { status: res.status, reason: body.scaleSets[0]?.reason };
}
