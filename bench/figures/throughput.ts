import { fork } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseConfigText } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { benchDir } from '../lib/paths.js';
import { Profiler, type ProfileSummary } from '../lib/profile.js';
import { median } from '../lib/stats.js';
import type { Notice, Verdict } from '../throughput/protocol.js';
import { RemoteBackend } from '../throughput/remote-backend.js';

export interface ThroughputOptions {
  jobs: number;
  maxRunners: number;
  startConcurrency: number;
  /** Write a CPU profile of the daemon process over the measured window. */
  profileFile?: string;
  log?: (line: string) => void;
}

export interface ThroughputRun {
  jobs: number;
  maxRunners: number;
  startConcurrency: number;
  /** First job queued → last job completed, by the fake's clock. */
  seconds: number;
  jobsPerSec: number;
  /** User+system CPU of the daemon process over the window, per job. */
  daemonCpuMsPerJob: number;
  /** Share of one core the daemon used over the window. */
  daemonCpuPct: number;
  /** The world process (fake + runners), for scale: it shares the machine's two cores with the daemon. */
  worldCpuMsPerJob: number;
  worldCpuPct: number;
  /** The daemon's event-loop delay over the window (how long a ready callback waited). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  verdict: Verdict;
  cycle: CycleBreakdown;
  profile?: ProfileSummary;
}

/**
 * The listener's message cycle as the daemon sees it (undici's diagnostics channels, medians in ms):
 * waiting for the fake vs. working in the daemon. Messages carry at most 50 job events and are taken
 * one at a time, so this cycle bounds jobs/s.
 */
export interface CycleBreakdown {
  messages: number;
  eventsPerMessage: number;
  /** Poll sent → response headers: the fake answering (messages were waiting, so no hold). */
  pollRttMs: number;
  /** Poll response → ack sent: reading and decoding the message in the daemon. */
  decodeMs: number;
  /** Ack sent → its response. */
  ackRttMs: number;
  /** Ack response → next poll sent: acquiring jobs (its round trip included) and the scaler's hooks. */
  handleMs: number;
  /** Sum of the medians above. */
  cycleMs: number;
}

const SCALE_SET = 'bench-throughput';

/**
 * Figure 4: the daemon in this process (startDaemon, real protocol client, listener and scaler), the
 * fake service and the runners in a child. Measures N jobs queued at once until every one completed.
 */
export async function runThroughput(o: ThroughputOptions): Promise<ThroughputRun> {
  const child = fork(join(benchDir, 'throughput/world.ts'), [JSON.stringify({})], {
    // BENCH_WORLD_CPU_PROF=<dir>: a CPU profile of the world process too (written when it exits).
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_WORLD_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORLD_CPU_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const backend = new RemoteBackend(child);
  const notices: Notice[] = [];
  const waiters: (() => void)[] = [];
  backend.onNotice((n) => {
    notices.push(n);
    for (const w of waiters.splice(0)) w();
  });
  const notice = <K extends Notice['t']>(t: K): Promise<Extract<Notice, { t: K }>> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const n = notices.find((x) => x.t === t);
        if (n) return resolve(n as Extract<Notice, { t: K }>);
        if (child.exitCode !== null) return reject(new Error(`world process exited (${child.exitCode})`));
        waiters.push(check);
      };
      child.once('exit', () => {
        for (const w of waiters.splice(0)) w();
      });
      check();
    });

  const stateDir = await mkdtemp(join(tmpdir(), 'runner-bench-tp-'));
  try {
    const ready = await notice('ready');
    const text = [
      `url = "${ready.configUrl}"`,
      `name = "${SCALE_SET}"`,
      `state-dir = "${stateDir}"`,
      'health-port = 0',
      'log-level = "info"',
      'log-format = "json"',
      `max-runners = ${o.maxRunners}`,
      `start-concurrency = ${o.startConcurrency}`,
      '',
    ].join('\n');
    const config = await parseConfigText(text, 'bench.toml', { RUNNER_TOKEN: ready.pat });
    // Logs are formatted and written as in production (info, JSON), then dropped.
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const daemon = await startDaemon(config, {
      logger: createLogger({ level: 'info', format: 'json', destination: sink }),
      backendFactory: () => backend,
    });
    try {
      await pollUntil(() => daemon.status().ready, {
        timeout: 30_000,
        interval: 20,
        what: 'daemon listening',
      });

      const loop = monitorEventLoopDelay({ resolution: 5 });
      const trace = new RequestTrace();
      const profiler = o.profileFile ? new Profiler() : undefined;
      await profiler?.start();
      const worldCpu0 = await backend.call<NodeJS.CpuUsage>({ t: 'cpu' });
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      loop.enable();
      await backend.call({ t: 'queue', jobs: o.jobs, scaleSet: SCALE_SET });
      const done = await notice('allCompleted');
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - wall0;
      loop.disable();
      trace.stop();
      const worldCpu1 = await backend.call<NodeJS.CpuUsage>({ t: 'cpu' });
      const profile = o.profileFile ? await profiler?.stop(o.profileFile) : undefined;

      const seconds = (done.lastCompletedAt - done.firstQueuedAt) / 1000;
      const daemonCpuMs = (cpu.user + cpu.system) / 1000;
      const worldCpuMs = (worldCpu1.user + worldCpu1.system - worldCpu0.user - worldCpu0.system) / 1000;

      await daemon.shutdown();
      const verdict = await pollUntil(
        async () => {
          const v = await backend.call<Verdict>({ t: 'verify' });
          return v.registrationsLeft === 0 ? v : undefined;
        },
        { timeout: 30_000, interval: 100, what: 'registrations removed after shutdown' },
      ).catch(() => backend.call<Verdict>({ t: 'verify' }));
      const run: ThroughputRun = {
        jobs: o.jobs,
        maxRunners: o.maxRunners,
        startConcurrency: o.startConcurrency,
        seconds,
        jobsPerSec: o.jobs / seconds,
        daemonCpuMsPerJob: daemonCpuMs / o.jobs,
        daemonCpuPct: (daemonCpuMs / wall) * 100,
        worldCpuMsPerJob: worldCpuMs / o.jobs,
        worldCpuPct: (worldCpuMs / wall) * 100,
        loopDelayP99Ms: loop.percentile(99) / 1e6,
        loopDelayMaxMs: loop.max / 1e6,
        verdict,
        cycle: trace.breakdown(o.jobs * 4),
      };
      if (profile) run.profile = profile;
      o.log?.(
        `throughput: ${o.jobs} jobs in ${seconds.toFixed(2)} s = ${run.jobsPerSec.toFixed(0)} jobs/s; daemon ${run.daemonCpuMsPerJob.toFixed(3)} ms CPU/job (${run.daemonCpuPct.toFixed(0)} % of a core), world ${run.worldCpuMsPerJob.toFixed(3)} ms/job (${run.worldCpuPct.toFixed(0)} %); lost ${verdict.lost}, duplicated ${verdict.duplicated}`,
      );
      return run;
    } finally {
      daemon.abort();
      await daemon.done;
    }
  } finally {
    child.disconnect();
    await new Promise<void>((resolve) =>
      child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
    await rm(stateDir, { recursive: true, force: true });
  }
}

type TracedRoute = 'poll' | 'ack' | 'acquire' | 'other';
interface Traced {
  at: number;
  kind: 'create' | 'headers';
  route: TracedRoute;
}

/** Times every request the daemon sends, by route, from undici's diagnostics channels. */
class RequestTrace {
  readonly #events: Traced[] = [];
  readonly #onCreate = (m: unknown) => this.#push(m, 'create');
  readonly #onHeaders = (m: unknown) => this.#push(m, 'headers');

  constructor() {
    diagnostics.subscribe('undici:request:create', this.#onCreate);
    diagnostics.subscribe('undici:request:headers', this.#onHeaders);
  }

  #push(m: unknown, kind: Traced['kind']): void {
    const path = (m as { request?: { path?: string } }).request?.path ?? '';
    const route: TracedRoute = path.includes('/queue/')
      ? path.includes('lastMessageId')
        ? 'poll'
        : 'ack'
      : path.includes('/acquirejobs')
        ? 'acquire'
        : 'other';
    if (route !== 'other') this.#events.push({ at: performance.now(), kind, route });
  }

  stop(): void {
    diagnostics.unsubscribe('undici:request:create', this.#onCreate);
    diagnostics.unsubscribe('undici:request:headers', this.#onHeaders);
  }

  breakdown(jobEvents: number): CycleBreakdown {
    const gaps = new Map<string, number[]>();
    const e = this.#events;
    for (let i = 1; i < e.length; i++) {
      const k = `${e[i - 1]!.route}.${e[i - 1]!.kind}>${e[i]!.route}.${e[i]!.kind}`;
      const list = gaps.get(k) ?? [];
      list.push(e[i]!.at - e[i - 1]!.at);
      gaps.set(k, list);
    }
    const med = (k: string) => median(gaps.get(k) ?? []);
    // After an ack, the next request is either the next poll or an acquire (then the poll).
    const handle: number[] = [];
    for (let i = 1; i < e.length; i++) {
      if (e[i]!.route !== 'poll' || e[i]!.kind !== 'create') continue;
      let j = i - 1;
      while (j >= 0 && !(e[j]!.route === 'ack' && e[j]!.kind === 'headers')) j--;
      if (j >= 0) handle.push(e[i]!.at - e[j]!.at);
    }
    const messages = e.filter((x) => x.route === 'ack' && x.kind === 'create').length;
    const b = {
      messages,
      eventsPerMessage: messages ? jobEvents / messages : Number.NaN,
      pollRttMs: med('poll.create>poll.headers'),
      decodeMs: med('poll.headers>ack.create'),
      ackRttMs: med('ack.create>ack.headers'),
      handleMs: median(handle),
    };
    return { ...b, cycleMs: b.pollRttMs + b.decodeMs + b.ackRttMs + b.handleMs };
  }
}
