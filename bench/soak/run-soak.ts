import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { delay } from '../../src/kernel/abort.js';
import { LABEL_INSTANCE } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { E2eEnv, SCALE_SET } from '../../test/e2e/support/e2e-env.js';
import type { FakeRoute } from '../../test/fakes/actions-service/index.js';
import { ensureDocker, FAKE_IMAGE, testDocker } from '../../test/setup/docker.js';
import { DockerProxy } from '../../test/setup/docker-proxy.js';
import { ensureTmpfs, Tmpfs } from '../../test/setup/tmpfs.js';
import { PrivateEngine } from '../../test/support/engines/dockerd.js';
import {
  closeLogPipe,
  type EngineStallResult,
  type FullDiskResult,
  fillStateDisk,
  type StepResult,
  secondDaemon,
  stallEngine,
} from './fault-steps.js';
import { STARTUP_PHASES, type StartupOutcome, sigtermDuring, tempFiles } from './startup-sigterm.js';

export interface SoakFaults {
  /** One 503 (Retry-After: 1) injected per this many requests at the fake; 0 = none. Default 20 (≈5 %). */
  http503Every?: number;
  /** Expire queue and admin tokens this often (ms), and at least once per run. Default 60 s; 0 = never. */
  tokenExpiryEveryMs?: number;
  /** kill -9 restarts of the daemon (the last one preceded by a forced session conflict). Default 2. */
  restarts?: number;
  /** Rounds of `docker kill` of one busy and one idle runner. Default 3. */
  dockerKills?: number;
  /**
   * Restart the engine once. Default true. The soak then runs on a private dockerd (restarting the
   * machine's engine would break every other suite); without it, on the machine's engine.
   */
  engineRestart?: boolean;
  /** Close the daemon's stderr pipe mid-run (its log reader dies). Default true. */
  logPipe?: boolean;
  /** Start a second daemon on the same state-dir mid-run (it must be refused at once). Default true. */
  secondDaemon?: boolean;
  /**
   * Fill the disk under the state-dir (a tmpfs mounted for the run; needs root) for this long mid-run,
   * then free it. Default 30 s; 0 = never.
   */
  fullDiskMs?: number;
  /** Stall the engine (connections accepted, never answered) this long mid-run. Default 2 min; 0 = never. */
  engineStallMs?: number;
  /** After the run, SIGTERM a daemon during each phase of its start-up (STARTUP_PHASES). Default true. */
  startupSigterm?: boolean;
}

export interface SoakOptions {
  jobs: number;
  maxRunners: number;
  faults?: SoakFaults;
  /** Longest job, seconds (durations are uniform in [0, max]). Default 2. */
  maxJobSeconds?: number;
  log?: (msg: string) => void;
  /** Overall deadline, ms; default 60 s + 3 s per job + the engine stall and the full disk. */
  timeoutMs?: number;
}

export interface SoakCheck {
  name: string;
  pass: boolean;
  detail: string;
}

export interface SoakResult {
  jobs: number;
  maxRunners: number;
  wallMs: number;
  jobsPerMin: number;
  succeeded: number;
  failed: number;
  /** Failed jobs whose runner the soak killed (docker kill of a busy runner or engine restart). */
  failedByKill: number;
  faults: {
    http503Injected: number;
    queueTokenExpiries: number;
    adminTokenExpiries: number;
    sessionConflicts: number;
    dockerKillsBusy: number;
    dockerKillsIdle: number;
    engineRestarts: number;
    /** Runners busy at the fake when the engine went down. */
    busyAtEngineRestart: number;
    logPipesClosed: number;
    secondDaemons: number;
    fullDisks: number;
    engineStalls: number;
    /** Start-up phases a daemon was SIGTERMed in. */
    startupSigterms: number;
  };
  /** What each of the faults above saw (one line each), for the report. */
  faultNotes: { fault: string; note: string }[];
  /** The full disk's and the engine stall's figures, when they were injected. */
  fullDisk?: FullDiskResult;
  engineStall?: EngineStallResult;
  restarts: number;
  peakContainers: number;
  peakRegistrations: number;
  checks: SoakCheck[];
  passed: boolean;
}

/** Daemon-side routes a 503 can hit: the long poll, acks, acquiring, JIT configs and deregistration. */
const FAULT_ROUTES: FakeRoute[] = ['poll', 'ack', 'acquire-jobs', 'jit-config', 'agent'];

/**
 * The soak: the real CLI daemon on a private Docker engine, jobs of random short durations fed to the
 * fake Actions service, and faults of every kind spread over the run at fixed points of progress (so
 * every run, short or long, has each of them). Returns the figures and the end checks; throws only
 * when the run cannot proceed at all (a wait passes its deadline), after cleaning up.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => {});
  const f = {
    http503Every: opts.faults?.http503Every ?? 20,
    tokenExpiryEveryMs: opts.faults?.tokenExpiryEveryMs ?? 60_000,
    restarts: opts.faults?.restarts ?? 2,
    dockerKills: opts.faults?.dockerKills ?? 3,
    engineRestart: opts.faults?.engineRestart ?? true,
    logPipe: opts.faults?.logPipe ?? true,
    secondDaemon: opts.faults?.secondDaemon ?? true,
    fullDiskMs: opts.faults?.fullDiskMs ?? 30_000,
    engineStallMs: opts.faults?.engineStallMs ?? 120_000,
    startupSigterm: opts.faults?.startupSigterm ?? true,
  };
  const maxJobMs = (opts.maxJobSeconds ?? 2) * 1000;
  // The stall and the full disk hold the run back for their whole length.
  const deadline =
    Date.now() + (opts.timeoutMs ?? 60_000 + 3_000 * opts.jobs + f.engineStallMs + f.fullDiskMs);
  const left = () => Math.max(1_000, deadline - Date.now());

  const image = await ensureDocker();
  if (!image.available) throw new Error(image.reason);
  if (f.fullDiskMs > 0) {
    const tmpfs = await ensureTmpfs();
    if (!tmpfs.available) throw new Error(tmpfs.reason);
  }
  // Undone in reverse order, whatever happens (the env's own cleanup comes first, in `finally`).
  const teardown: (() => Promise<void>)[] = [];
  const undo = async () => {
    for (const t of teardown.splice(0).reverse()) await t().catch(() => {});
  };
  let engine: PrivateEngine | undefined;
  let env: E2eEnv;
  let proxy: DockerProxy | undefined;
  let disk: Tmpfs | undefined;
  try {
    engine = f.engineRestart ? await PrivateEngine.start({ images: [FAKE_IMAGE] }) : undefined;
    if (engine) teardown.push(() => engine!.stop());
    // The daemon reaches the engine through a proxy that can stall it (never the soak's own calls).
    const socket = engine?.socket ?? '/var/run/docker.sock';
    if (f.engineStallMs > 0 || f.startupSigterm) {
      proxy = await DockerProxy.start(socket);
      teardown.push(() => proxy!.close());
    }
    let stateDir: string | undefined;
    if (f.fullDiskMs > 0) {
      const mountPoint = await mkdtemp(join(tmpdir(), 'runner-soak-state-'));
      teardown.push(() => rm(mountPoint, { recursive: true, force: true }));
      // Room for the instance id, the lock and a ledger of a few hundred runners; nothing more.
      disk = await Tmpfs.mount(mountPoint, { sizeKiB: 256 });
      teardown.push(() => disk!.unmount());
      stateDir = mountPoint;
    }
    env = await E2eEnv.create({
      maxRunners: opts.maxRunners,
      // One runner kept idle, so there is always an idle runner to kill once the queue is drained.
      minRunners: 1,
      docker: `host = "${proxy?.host ?? `unix://${socket}`}"`,
      ...(stateDir ? { stateDir } : {}),
      // The fake's default lease grace (10 s): on two loaded cores a runner can take seconds between
      // its claim and its lease, and a shorter grace fails jobs no fault touched.
      fake: { leaseGraceMs: 10_000 },
    });
  } catch (err) {
    await undo();
    throw err;
  }
  const engineDocker = engine?.docker ?? testDocker;
  const counts: SoakResult['faults'] = {
    http503Injected: 0,
    queueTokenExpiries: 0,
    adminTokenExpiries: 0,
    sessionConflicts: 0,
    dockerKillsBusy: 0,
    dockerKillsIdle: 0,
    engineRestarts: 0,
    busyAtEngineRestart: 0,
    logPipesClosed: 0,
    secondDaemons: 0,
    fullDisks: 0,
    engineStalls: 0,
    startupSigterms: 0,
  };
  const faultNotes: SoakResult['faultNotes'] = [];
  /** Problems per new fault, each becoming a check. */
  const faultProblems = new Map<string, string[]>();
  const noteStep = (fault: string, r: StepResult) => {
    faultNotes.push({ fault, note: r.summary });
    faultProblems.set(fault, [...(faultProblems.get(fault) ?? []), ...r.problems]);
    log(
      `fault: ${fault}: ${r.summary}${r.problems.length > 0 ? ` — PROBLEMS: ${r.problems.join('; ')}` : ''}`,
    );
  };
  const startupOutcomes: StartupOutcome[] = [];
  let fullDisk: FullDiskResult | undefined;
  let engineStall: EngineStallResult | undefined;
  const killedRunners = new Set<string>();
  let restarts = 0;
  /** Restart policies seen on our containers just before the engine restart. */
  const restartPolicies = new Set<string>();
  let peakContainers = 0;
  let peakRegistrations = 0;
  let peakRegistrationsSeen = '';
  let ok = false;
  const stoppers: (() => void)[] = [];
  const label = [`${LABEL_INSTANCE}=${env.instanceId}`];
  const ours = (all: boolean): Promise<Docker.ContainerInfo[]> =>
    engineDocker.listContainers({ all, filters: { label } });
  const start = Date.now();
  try {
    let daemon = await env.startDaemon();
    await env.fake.waitFor(() => env.fake.sessions().length === 1, {
      what: 'first session',
      timeout: 30_000,
    });

    // Registrations are counted on every change of the fake (exact); containers by sampling the
    // engine (an engine mid-restart answers nothing, which is not a sample).
    let nextFaultAt = f.http503Every;
    stoppers.push(
      env.fake.onChange(() => {
        const regs = env.fake.runners();
        if (regs.length > peakRegistrations) {
          peakRegistrations = regs.length;
          // What the fake held at the peak: names a failed check can be traced in the daemon logs with.
          peakRegistrationsSeen = `${new Date().toISOString()} ${regs.map((r) => `${r.name}:${r.status}`).join(' ')}`;
        }
        if (f.http503Every > 0 && env.fake.requests.length >= nextFaultAt) {
          nextFaultAt += f.http503Every;
          const route = FAULT_ROUTES[Math.floor(Math.random() * FAULT_ROUTES.length)]!;
          env.fake.faults.inject({ route, status: 503, times: 1, retryAfter: '1' });
          counts.http503Injected++;
        }
      }),
    );
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const cs = await ours(false).catch(() => undefined);
        if (cs) peakContainers = Math.max(peakContainers, cs.length);
        await delay(200);
      }
    })();
    stoppers.push(() => {
      sampling = false;
    });

    const expireTokens = (why: string) => {
      env.fake.faults.expireQueueTokens();
      env.fake.faults.expireAdminTokens();
      counts.queueTokenExpiries++;
      counts.adminTokenExpiries++;
      log(`fault: queue and admin tokens expired (${why})`);
    };
    if (f.tokenExpiryEveryMs > 0) {
      const t = setInterval(() => expireTokens('timer'), f.tokenExpiryEveryMs);
      stoppers.push(() => clearInterval(t));
    }

    // The feeder keeps a bounded backlog (2 × max-runners), so pauses of the feeder let the queue
    // drain and leave idle runners to kill.
    let queued = 0;
    let paused = false;
    const done = () => env.fake.jobs().filter((j) => j.state === 'completed').length;
    let feeding = false;
    const feed = () => {
      // queueJob announces synchronously, which calls feed again through onChange: one loop at a time.
      if (paused || feeding) return;
      feeding = true;
      try {
        while (queued < opts.jobs && queued - done() < opts.maxRunners * 2) {
          const durationMs = Math.floor(Math.random() * maxJobMs);
          env.fake.queueJob({ scaleSet: SCALE_SET, durationMs });
          queued++;
        }
      } finally {
        feeding = false;
      }
    };
    stoppers.push(env.fake.onChange(feed));
    feed();

    const atProgress = (fraction: number, what: string) =>
      env.fake.waitFor(() => done() >= Math.floor(opts.jobs * fraction), {
        what: `${what}: ${Math.floor(opts.jobs * fraction)} jobs done`,
        timeout: left(),
      });

    const killContainer = async (runner: string, kind: 'busy' | 'idle') => {
      killedRunners.add(runner);
      await engineDocker.getContainer(runner).kill();
      if (kind === 'busy') counts.dockerKillsBusy++;
      else counts.dockerKillsIdle++;
      log(`fault: docker kill of ${kind} runner ${runner}`);
    };
    const killBusy = async () => {
      // Busy at the fake, its container running, and its job (`sleep X`, X ≥ 1 s) started less than
      // half a second ago: the kill then lands mid-job, not after a job that was about to finish.
      const busy = await pollUntil(
        async () => {
          const names = new Set((await ours(false)).map((c) => (c.Names?.[0] ?? '').replace(/^\//, '')));
          const jobs = new Map(env.fake.jobs().map((j) => [j.requestId, j]));
          return env.fake.runners().find((r) => {
            const job = r.jobRequestId === undefined ? undefined : jobs.get(r.jobRequestId);
            const startedAt = job?.history.find((h) => h.state === 'started')?.at;
            const seconds = Number(/^sleep ([\d.]+)$/.exec(job?.script ?? '')?.[1] ?? 0);
            return (
              r.status === 'busy' &&
              names.has(r.name) &&
              startedAt !== undefined &&
              Date.now() - startedAt < 500 &&
              seconds >= 1
            );
          })?.name;
        },
        { what: 'a runner just started on a job of ≥ 1 s', timeout: 60_000, interval: 50 },
      );
      await killContainer(busy, 'busy');
    };
    const killIdle = async () => {
      paused = true;
      try {
        const idle = await pollUntil(
          async () => {
            const names = new Set((await ours(false)).map((c) => (c.Names?.[0] ?? '').replace(/^\//, '')));
            return env.fake.runners().find((r) => r.status === 'idle' && names.has(r.name))?.name;
          },
          { what: 'an idle runner to kill', timeout: 60_000, interval: 100 },
        );
        await killContainer(idle, 'idle');
      } finally {
        paused = false;
        feed();
      }
    };
    const restartDaemon = async (conflict: boolean) => {
      const old = daemon;
      old.signal('SIGKILL');
      const exit = await old.waitForExit(10_000);
      if (exit.signal !== 'SIGKILL') throw new Error(`kill -9 of the daemon: ${JSON.stringify(exit)}`);
      if (conflict) {
        // The restarted daemon's first two session creations answer 409, as while GitHub still
        // holds the killed daemon's session.
        env.fake.faults.sessionConflict(2);
        counts.sessionConflicts++;
        log('fault: session conflict ×2');
      }
      restarts++;
      log(`fault: kill -9 restart #${restarts}`);
      daemon = await env.startDaemon();
    };
    const restartEngine = async () => {
      // Restart while jobs run, or the fault proves only that an idle fleet survives it.
      await env.fake.waitFor(() => env.fake.runners().some((r) => r.status === 'busy'), {
        what: 'a busy runner before the engine restart',
        timeout: 60_000,
      });
      // Every runner container dies with the engine, and dockerd takes a second or more to shut down,
      // during which the daemon still registers and starts runners: every runner seen at the fake
      // from now until the engine is back counts as killed.
      const runners = env.fake.runners();
      // An engine restart must not bring runners back on its own: an ephemeral runner's JIT config is
      // spent, so a resurrected container would be a stray. Every container of ours must say so.
      for (const c of await ours(true)) {
        // A container may be removed between the listing and the inspect: it has nothing to say.
        const info = await engineDocker
          .getContainer(c.Id)
          .inspect()
          .catch(() => undefined);
        if (!info) continue;
        const policy = info.HostConfig.RestartPolicy?.Name ?? '';
        restartPolicies.add(policy === '' ? 'no' : policy);
      }
      counts.busyAtEngineRestart = runners.filter((r) => r.status === 'busy').length;
      const note = () => {
        for (const r of env.fake.runners()) killedRunners.add(r.name);
      };
      note();
      const off = env.fake.onChange(note);
      log(`fault: engine restart (${runners.length} runners, ${counts.busyAtEngineRestart} busy)`);
      const restartAt = Date.now();
      let detached: string[];
      try {
        detached = await engine!.restart();
      } finally {
        off();
      }
      log(
        `engine answering again after ${((Date.now() - restartAt) / 1000).toFixed(1)} s; ${done()} jobs done` +
          // The root filesystems of starts the shutdown cut short, which the engine left mounted
          // (PrivateEngine.restart says why they are detached).
          (detached.length > 0 ? `; ${detached.length} mounts the stopped engine left detached` : ''),
      );
      note();
      counts.engineRestarts++;
    };

    // The plan: each fault at a fixed fraction of jobs done.
    type Step = { at: number; what: string; run: () => Promise<void> | void };
    const plan: Step[] = [{ at: 0.15, what: 'token expiry', run: () => expireTokens('plan') }];
    for (let i = 0; i < f.dockerKills; i++) {
      const at = 0.1 + (0.7 * i) / Math.max(1, f.dockerKills);
      plan.push({ at, what: 'docker kill busy', run: killBusy });
      plan.push({ at: at + 0.05, what: 'docker kill idle', run: killIdle });
    }
    for (let i = 0; i < f.restarts; i++) {
      const at = 0.3 + (0.4 * i) / Math.max(1, f.restarts);
      plan.push({ at, what: 'kill -9 restart', run: () => restartDaemon(i === f.restarts - 1) });
    }
    if (f.engineRestart) plan.push({ at: 0.55, what: 'engine restart', run: restartEngine });
    if (f.logPipe)
      plan.push({
        at: 0.2,
        what: 'log pipe closed',
        run: async () => {
          noteStep('log pipe closed', await closeLogPipe(daemon));
          counts.logPipesClosed++;
        },
      });
    if (f.secondDaemon)
      plan.push({
        at: 0.4,
        what: 'second daemon',
        run: async () => {
          noteStep('second daemon on the state-dir', await secondDaemon(env, daemon));
          counts.secondDaemons++;
        },
      });
    if (f.fullDiskMs > 0 && disk)
      plan.push({
        at: 0.65,
        what: 'full disk',
        run: async () => {
          fullDisk = await fillStateDisk(env, daemon, disk!, f.fullDiskMs);
          noteStep('state-dir disk full', fullDisk);
          counts.fullDisks++;
        },
      });
    if (f.engineStallMs > 0 && proxy)
      plan.push({
        at: 0.75,
        what: 'engine stall',
        run: async () => {
          engineStall = await stallEngine(env, proxy!, f.engineStallMs);
          noteStep('engine stalled', engineStall);
          counts.engineStalls++;
        },
      });
    plan.sort((a, b) => a.at - b.at);
    for (const step of plan) {
      await atProgress(step.at, step.what);
      await step.run();
    }

    await env.fake.waitFor(() => done() === opts.jobs, {
      what: `all ${opts.jobs} jobs completed`,
      timeout: left(),
    });
    const wallMs = Date.now() - start;
    for (const s of stoppers.splice(0)) s();
    await sampler;

    // Drained: only the min-runners idle one may be left before the graceful stop.
    await pollUntil(async () => (await ours(true)).length <= 1 && env.fake.runners().length <= 1, {
      what: 'finished runners removed',
      timeout: 60_000,
      interval: 200,
    });
    daemon.signal('SIGTERM');
    const exit = await daemon.waitForExit(60_000).catch((err: unknown) => ({ error: String(err) }));

    if (f.startupSigterm && proxy) {
      // A 503 injected for the run but not yet taken must not meet a scenario's daemon.
      env.fake.faults.clear();
      for (const phase of STARTUP_PHASES) {
        const o = await sigtermDuring(phase, { env, proxy, docker: engineDocker });
        startupOutcomes.push(o);
        counts.startupSigterms++;
        log(
          `fault: SIGTERM while ${phase}: ${JSON.stringify(o.exit)} after ${o.stopMs} ms${o.problems.length ? ` — PROBLEMS: ${o.problems.join('; ')}` : ''}`,
        );
      }
      faultNotes.push({
        fault: 'SIGTERM during start-up',
        note: startupOutcomes.map((o) => `${o.phase} ${o.stopMs} ms`).join(', '),
      });
    }
    const lockEntries = await readdir(join(env.stateDir, 'lock')).catch(() => [] as string[]);
    const temps = await tempFiles(env.stateDir);

    const jobs = env.fake.jobs();
    const completions = jobs.map((j) => j.history.filter((h) => h.state === 'completed').length);
    const failed = jobs.filter((j) => j.result === 'failed');
    const failedByKill = failed.filter((j) => j.runnerName && killedRunners.has(j.runnerName)).length;
    const leftContainers = await ours(true);
    const badLogs = env.daemons.flatMap((d) => d.lines.filter((l) => /unhandled|uncaught/i.test(l.raw)));
    const checks: SoakCheck[] = [
      {
        name: 'every job completed exactly once',
        pass: jobs.length === opts.jobs && completions.every((n) => n === 1),
        detail: `${jobs.length} jobs, completions per job: ${summarise(completions)}`,
      },
      {
        name: 'every failed job ran on a runner the soak killed',
        pass: failedByKill === failed.length,
        detail: `${failed.length} failed, ${failedByKill} on killed runners${
          failed.length > failedByKill
            ? `; others: ${failed
                .filter((j) => !killedRunners.has(j.runnerName ?? ''))
                .map((j) => `${j.requestId}@${j.runnerName}`)
                .join(', ')}`
            : ''
        }`,
      },
      {
        name: 'max-runners never exceeded (containers)',
        pass: peakContainers <= opts.maxRunners,
        detail: `peak ${peakContainers}, max ${opts.maxRunners}`,
      },
      {
        name: 'max-runners never exceeded (registrations)',
        pass: peakRegistrations <= opts.maxRunners,
        detail: `peak ${peakRegistrations}, max ${opts.maxRunners}${
          peakRegistrations > opts.maxRunners ? `; at the peak: ${peakRegistrationsSeen}` : ''
        }`,
      },
      {
        name: 'zero containers left',
        pass: leftContainers.length === 0,
        detail: leftContainers.map((c) => `${c.Names?.[0]} (${c.State})`).join(', ') || 'none',
      },
      {
        name: 'zero registrations left',
        pass: env.fake.runners().length === 0,
        detail:
          env.fake
            .runners()
            .map((r) => `${r.name} (${r.status})`)
            .join(', ') || 'none',
      },
      {
        name: 'zero sessions left',
        pass: env.fake.sessions().length === 0,
        detail: `${env.fake.sessions().length}`,
      },
      {
        name: 'no unhandled rejection or uncaught exception logged',
        pass: badLogs.length === 0,
        detail:
          badLogs
            .slice(0, 3)
            .map((l) => l.raw)
            .join('\n') || 'none',
      },
      {
        name: 'runner containers never restart on their own (restart policy "no")',
        pass: !f.engineRestart || (restartPolicies.size > 0 && [...restartPolicies].every((p) => p === 'no')),
        detail: f.engineRestart
          ? [...restartPolicies].join(', ') || 'no container seen'
          : 'no engine restart',
      },
      {
        name: 'daemon exited 0 after SIGTERM',
        pass: 'code' in exit && exit.code === 0 && exit.signal === null,
        detail: JSON.stringify(exit),
      },
      {
        name: 'no lock entry and no temp file left in the state-dir',
        pass: lockEntries.length === 0 && temps.length === 0,
        detail: [...lockEntries, ...temps].join(', ') || 'none',
      },
      ...[...faultProblems].map(([fault, problems]) => ({
        name: `${fault}: handled as documented`,
        pass: problems.length === 0,
        detail: problems.join('; ') || (faultNotes.find((n) => n.fault === fault)?.note ?? ''),
      })),
      ...(f.startupSigterm
        ? [
            {
              name: 'SIGTERM during each start-up phase: ended in time, nothing left',
              pass:
                startupOutcomes.length === STARTUP_PHASES.length &&
                startupOutcomes.every((o) => o.problems.length === 0),
              detail:
                startupOutcomes
                  .filter((o) => o.problems.length > 0)
                  .map((o) => `${o.phase}: ${o.problems.join(', ')}`)
                  .join('; ') || `${startupOutcomes.length} phases`,
            },
          ]
        : []),
    ];
    const passed = checks.every((c) => c.pass);
    ok = passed;
    return {
      jobs: opts.jobs,
      maxRunners: opts.maxRunners,
      wallMs,
      jobsPerMin: (opts.jobs / wallMs) * 60_000,
      succeeded: jobs.filter((j) => j.result === 'succeeded').length,
      failed: failed.length,
      failedByKill,
      faults: counts,
      faultNotes,
      ...(fullDisk ? { fullDisk } : {}),
      ...(engineStall ? { engineStall } : {}),
      restarts,
      peakContainers,
      peakRegistrations,
      checks,
      passed,
    };
  } finally {
    for (const s of stoppers.splice(0)) s();
    // A failed run leaves its evidence: the daemon's own view of its runners (asked before anything is
    // stopped), daemon logs, the fake's state, the engine's log (SOAK_DUMP=1: a passing one too, to
    // study recovery times).
    if (!ok) {
      const status = await env.status().catch((err: unknown) => String(err));
      const view =
        typeof status === 'string'
          ? status
          : JSON.stringify(
              status.scaleSets.map((ss) => ({
                phase: ss.phase,
                reason: ss.reason,
                desired: ss.desiredRunners,
                statistics: ss.statistics,
                runners: ss.runners,
                stateFile: ss.stateFile,
                backendStall: ss.backendStall,
              })),
            );
      process.stderr.write(`--- daemon status at the failure ---\n${view}\n`);
      // The fake's side of the last minute: what the daemon asked, in order.
      const since = Date.now() - 60_000;
      const asked = env.fake.requests
        .filter((r) => r.at >= since && r.route !== 'fake-runner')
        .map(
          (r) =>
            `${new Date(r.at).toISOString().slice(11, 23)} ${r.method} ${r.route} ${r.url.slice(0, 120)}`,
        );
      process.stderr.write(`--- requests at the fake, last minute ---\n${asked.join('\n')}\n`);
      process.stderr.write(`--- fake sessions ---\n${JSON.stringify(env.fake.sessions())}\n`);
    }
    await env.cleanup({ dumpLogs: (!ok && process.env.SOAK_QUIET !== '1') || process.env.SOAK_DUMP === '1' });
    if (!ok && engine)
      process.stderr.write(`--- private dockerd log ---\n${(await engine.log()).slice(-4000)}\n`);
    await undo();
  }
}

/** "n×k" pairs of a list of counts, e.g. "1×99, 2×1". */
function summarise(xs: number[]): string {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, n]) => `${k}×${n}`)
    .join(', ');
}
