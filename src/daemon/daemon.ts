import { backendContext, createBackend } from '../../backends/index.js';
import type { BackendContext, RunnerBackend } from '../../backends/types.js';
import { formatProblem } from '../config/errors.js';
import type { RunnerConfig, ScaleSetConfig } from '../config/types.js';
import type { DaemonEvent } from '../events.js';
import { ActionsClient, type ActionsClientOptions } from '../github/client.js';
import { credentialsFromConfig } from '../github/credentials.js';
import { gitHubApiUrl, parseConfigUrl } from '../github/index.js';
import { JobTelemetry } from '../health/jobs.js';
import { createMetrics } from '../health/metrics.js';
import { HealthServerError, startHealthServer } from '../health/server.js';
import type { DaemonStatus } from '../health/status-types.js';
import { DaemonHosts } from '../hosts/daemon-hosts.js';
import type { Clock } from '../kernel/clock.js';
import { EventHub } from '../kernel/events.js';
import type { Logger } from '../log.js';
import { Networks } from '../net/networks.js';
import { type RunnerNetwork, runnerNetwork, unreachableProxyWarning } from '../net/runner-network.js';
import { INSECURE_TLS_WARNING } from '../net/tls.js';
import type { NetworkAccess } from '../net/types.js';
import { CapacityQueue } from '../scaler/capacity-queue.js';
import { loadInstanceId } from '../state/instance.js';
import { VERSION } from '../version.js';
import { ScaleSetRunner } from './scale-set-runner.js';
import { StatusTallies } from './status-tally.js';

export interface DaemonOptions {
  logger: Logger;
  /** Tests swap the backend (e.g. an in-process no-op backend for benchmarks). */
  backendFactory?: (cfg: ScaleSetConfig, ctx: BackendContext) => RunnerBackend | Promise<RunnerBackend>;
  /** Tests shorten the retry backoff of scale-set start-up. */
  retry?: { initial: number; max: number };
  /** How long without a successful poll before /healthz says 503 (default 95 s). */
  healthStaleAfterMs?: number;
  /** Backend silence after which a scale set's backend counts as stalled (tests shorten it). */
  backendStallAfterMs?: number;
  /** While a state file cannot be written, how often it is retried (tests shorten it). */
  stateRetryMs?: number;
  /**
   * The scale sets' clock: the scalers' timing (start backoff, scale-down waits, `[[schedule]]`
   * windows) and state-file retries. Tests move it by hand.
   */
  clock?: Clock;
  /** Protocol client tuning (tests shorten retry waits). */
  clientOptions?: Pick<ActionsClientOptions, 'retryMax' | 'retryWaitMin' | 'retryWaitMax' | 'timeoutMs'>;
}

export interface Daemon {
  readonly instanceId: string;
  readonly healthUrl: string | undefined;
  status(): DaemonStatus;
  /** Resolves when every scale set has stopped. */
  readonly done: Promise<void>;
  /** Graceful: drain, delete sessions, keep the scale sets (unless configured). */
  shutdown(): Promise<void>;
  /** Immediate: abort everything, leave runners for the next start to adopt. */
  abort(): void;
}

/** Starts every scale set of the config and the health server; returns at once. */
export async function startDaemon(config: RunnerConfig, opts: DaemonOptions): Promise<Daemon> {
  const log = opts.logger;
  const instanceId = await loadInstanceId(config.stateDir);
  const metrics = createMetrics();
  const telemetry = new JobTelemetry({
    logger: log,
    hostOf: (set, runner) => backends.find((b) => b.scaleSet === set)?.backend.hostOf?.(runner),
  });
  const tallies = new StatusTallies();
  // One stream of events from every scale set's listener, supervisor and scaler. Listeners only and
  // synchronous (limit 0 keeps no backlog): each consumer has taken its share before emit() returns.
  const hub = new EventHub<DaemonEvent>({
    limit: 0,
    onListenerError: (err) => log.error({ err }, 'event listener failed'),
  });
  hub.listen(metrics.onEvent);
  hub.listen(telemetry.onEvent);
  hub.listen(tallies.onEvent);
  const emit = (ev: DaemonEvent) => hub.emit(ev);
  const hard = new AbortController();
  const startedAt = new Date().toISOString();
  // One connection pool per distinct proxy/CA setting, shared by every scale set that has it.
  const networks = new Networks();

  const backends: { scaleSet: string; backend: RunnerBackend }[] = [];
  // One line for every scale set of the process: job shapes on one budget start in job order.
  const capacity = new CapacityQueue();
  const runners = await Promise.all(
    config.scaleSets.map(async (cfg, i) => {
      const slog = log.child({ scaleSet: cfg.name });
      const network = networks.access(cfg.network);
      const runnerNet = runnerNetwork(cfg.network, cfg.runnerEnv);
      logNetwork(slog, cfg, network, runnerNet);
      const ctx = backendContext(
        config,
        cfg,
        instanceId,
        slog.child({ component: `backend/${cfg.backend}` }),
        network,
        runnerNet,
      );
      const backend = await (opts.backendFactory ?? createBackend)(cfg, ctx);
      // By position: the hosts are listed in config order whichever backend is made first.
      backends[i] = { scaleSet: cfg.name, backend };
      const client = new ActionsClient({
        configUrl: cfg.url,
        auth: credentialsFromConfig(cfg.auth),
        logger: slog.child({ component: 'github' }),
        dispatcher: network.dispatcher,
        ...opts.clientOptions,
      });
      return new ScaleSetRunner(cfg, {
        instanceId,
        stateDir: config.stateDir,
        logger: slog,
        emit,
        tally: tallies.of(cfg.name),
        client,
        backend,
        network,
        recentJobs: (set) => telemetry.recent(set),
        retry: opts.retry,
        backendStallAfterMs: opts.backendStallAfterMs,
        stateRetryMs: opts.stateRetryMs,
        capacity,
        ...(opts.clock ? { clock: opts.clock } : {}),
      });
    }),
  );

  // The cordons of the state dir are in place before any scale set runs, so nothing lands on a
  // cordoned host after a restart.
  const hosts = new DaemonHosts(backends, config.stateDir, log.child({ component: 'hosts' }));
  await hosts.load();

  const status = (): DaemonStatus => {
    const scaleSets = runners.map((r) => r.status());
    const fleet = hosts.list();
    return {
      version: VERSION,
      startedAt,
      healthy: scaleSets.every((s) => s.healthy),
      ready: runners.every((r) => r.listeningOnce),
      scaleSets,
      ...(fleet.length > 0 ? { hosts: fleet } : {}),
    };
  };

  const health =
    config.healthPort > 0
      ? await startHealthServer({
          host: config.healthHost,
          port: config.healthPort,
          token: config.healthToken,
          status,
          cordon: (name, on) => hosts.cordon(name, on),
          metrics,
          logger: log.child({ component: 'health' }),
          staleAfterMs: opts.healthStaleAfterMs,
        }).catch((err: unknown) => {
          throw healthPortProblem(config, err);
        })
      : undefined;
  if (health) log.info({ url: health.url }, 'health server listening');

  const done = Promise.all(runners.map((r) => r.run(hard.signal))).then(async () => {
    await health?.close();
    // Every scale set has stopped: nothing is in flight any more (a hard stop aborted it).
    await networks.destroy();
  });
  log.info({ instanceId, scaleSets: runners.length, version: VERSION }, 'runner started');

  let shuttingDown: Promise<void> | undefined;
  return {
    instanceId,
    healthUrl: health?.url,
    status,
    done,
    shutdown() {
      shuttingDown ??= (async () => {
        log.info({ drainTimeoutMs: config.drainTimeout }, 'shutting down: draining runners');
        await Promise.all(
          runners.map((r) =>
            r.shutdown({ drainTimeout: config.drainTimeout, deleteScaleSet: config.deleteScaleSetOnExit }),
          ),
        );
        await done;
        log.info('shutdown complete');
      })();
      return shuttingDown;
    },
    abort() {
      hard.abort(new Error('forced exit'));
    },
  };
}

/**
 * How the scale set reaches GitHub, said once at start (info), and the warning when TLS is not verified.
 * The route is the config URL's API host; on github.com the Actions service and the broker are other
 * hosts, and NO_PROXY may route them differently (`runner validate` shows both).
 */
function logNetwork(log: Logger, cfg: ScaleSetConfig, network: NetworkAccess, runners: RunnerNetwork): void {
  let route: string;
  try {
    route = network.describeRoute(gitHubApiUrl(parseConfigUrl(cfg.url), '/'));
  } catch {
    return;
  }
  log.info({ github: route, trust: network.trust, runners: runners.description }, 'network');
  if (cfg.network.insecureSkipTlsVerify) log.warn(INSECURE_TLS_WARNING);
  const unreachable = unreachableProxyWarning(runners, cfg);
  if (unreachable) log.warn(unreachable);
}

/**
 * A port that cannot be bound, said where it was configured: `config.toml: health-port: …` (or the
 * variable or flag that set it), so the one line a person sees names the key to change.
 */
function healthPortProblem(config: RunnerConfig, err: unknown): unknown {
  if (!(err instanceof HealthServerError) || err.code === 'HEALTH_SERVER_OPTION') return err;
  const where = `${config.healthHost}:${config.healthPort}`;
  const message =
    err.code === 'HEALTH_PORT_IN_USE'
      ? `expected a port free on ${config.healthHost}, got ${config.healthPort}, which another process listens on (a runner daemon with this config? \`runner status\` tells); stop it, or set another health-port (0 turns the health server off)`
      : `expected a port runner can listen on, got ${config.healthPort}: ${err.message.replace(`cannot listen on ${where}: `, '')} (health-host ${config.healthHost})`;
  return new HealthServerError(err.code, formatProblem({ ...config.healthPortSource, message }), {
    cause: err,
  });
}
