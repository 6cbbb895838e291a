import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Label sets. The `gha_*` metrics keep the names ARC's listener uses
 * (actions-runner-controller: cmd/ghalistener/metrics/metrics.go) so its Grafana dashboards work:
 * `name` is the scale set, and job metrics carry repository/organization/job_name/event_name
 * (+ job_result). ARC's `namespace` and `enterprise` have no meaning outside Kubernetes, so they are
 * absent (PromQL reads an absent label as ""). `job_workflow_ref`, `runner_id` and `runner_name` are
 * left out on purpose: a ref contains the branch and a runner name is unique per ephemeral runner,
 * so each would mint a new series (× every histogram bucket) per PR or per job.
 * ARC serves one scale set per process and so has no scale set label on job metrics; we serve
 * several, hence `name` there too. Our own `runner_*` metrics use `scale_set`.
 */
const SCALE_SET = ['name'] as const;
const JOB = ['name', 'repository', 'organization', 'job_name', 'event_name'] as const;
const JOB_DONE = [...JOB, 'job_result'] as const;
/** A host's use (`used`) or budget (`budget`) in one dimension. */
const HOST_KIND = ['host', 'kind'] as const;

/** ARC's runtime buckets, so `le` values line up with dashboards built on ARC data. */
const JOB_BUCKETS = [
  0.01, 0.05, 0.1, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 18, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100,
  110, 120, 150, 180, 210, 240, 300, 360, 420, 480, 540, 600, 900, 1200, 1800, 2400, 3000, 3600,
];
/** Runner start: sub-second for a warm pool, minutes for a cold VM image. */
const START_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];

export function defineMetrics(registry: Registry) {
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => new Histogram<L>({ name, help, labelNames, buckets, registers });

  return {
    // Snapshot gauges: rebuilt from DaemonStatus on every scrape.
    assignedJobs: gauge('gha_assigned_jobs', 'Number of jobs assigned to this scale set.', SCALE_SET),
    runningJobs: gauge('gha_running_jobs', 'Number of jobs running (or about to be run).', SCALE_SET),
    registeredRunners: gauge(
      'gha_registered_runners',
      'Number of runners registered by the scale set.',
      SCALE_SET,
    ),
    busyRunners: gauge('gha_busy_runners', 'Number of registered runners running a job.', SCALE_SET),
    idleRunners: gauge('gha_idle_runners', 'Number of registered runners not running a job.', SCALE_SET),
    desiredRunners: gauge('gha_desired_runners', 'Number of runners desired by the scale set.', SCALE_SET),
    minRunners: gauge('gha_min_runners', 'Minimum number of runners.', SCALE_SET),
    maxRunners: gauge('gha_max_runners', 'Maximum number of runners.', SCALE_SET),
    poolSize: gauge('runner_pool_size', 'Backend pool size by tier (e.g. warm, sleeping).', [
      'scale_set',
      'tier',
    ]),
    costSeconds: gauge(
      'runner_backend_cost_seconds',
      "Machine seconds the backend's runners cost beyond their jobs since the daemon started, by cause (Dedalus: hold-window).",
      ['scale_set', 'cause'],
    ),
    costUsd: gauge('runner_backend_cost_usd', 'Those seconds at the list prices, US dollars (an estimate).', [
      'scale_set',
      'cause',
    ]),
    runners: gauge('runner_runners', 'Runners managed by this daemon, by state.', ['scale_set', 'state']),
    lastPoll: gauge(
      'runner_last_successful_poll_timestamp_seconds',
      'Unix time of the last long poll that returned 200 or 202.',
      ['scale_set'],
    ),
    // Hosts (Docker's `[[docker.hosts]]`): one series per host, shared by the scale sets that list it.
    hostUp: gauge('runner_host_up', 'Whether a host answers: 1 up, 0 down or not answered yet.', ['host']),
    hostCordoned: gauge('runner_host_cordoned', 'Whether a host is cordoned (takes no new runner): 1 or 0.', [
      'host',
    ]),
    hostRunners: gauge(
      'runner_host_runners',
      'Runners on a host (kind="used") and its max-runners (kind="budget", absent without a cap).',
      HOST_KIND,
    ),
    hostCpus: gauge(
      'runner_host_cpus',
      'CPU limits of the runners on a host (kind="used") and the host\'s CPU budget (kind="budget", once known).',
      HOST_KIND,
    ),
    hostMemory: gauge(
      'runner_host_memory_bytes',
      'Memory limits of the runners on a host (kind="used") and the host\'s memory budget (kind="budget", once known).',
      HOST_KIND,
    ),

    // Event metrics: fed by the daemon's events (metrics.ts).
    startedJobs: counter('gha_started_jobs_total', 'Total number of jobs started.', JOB),
    completedJobs: counter('gha_completed_jobs_total', 'Total number of jobs completed.', JOB_DONE),
    jobStartup: histogram(
      'gha_job_startup_duration_seconds',
      'Time spent waiting for workflow job to get started on the runner owned by the scale set (in seconds).',
      JOB,
      JOB_BUCKETS,
    ),
    jobExecution: histogram(
      'gha_job_execution_duration_seconds',
      'Time spent executing workflow jobs by the scale set (in seconds).',
      JOB_DONE,
      JOB_BUCKETS,
    ),
    runnerStart: histogram(
      'runner_start_duration_seconds',
      'Time from the start request to a runner up and registered, by backend and tier (cold, warm, woken).',
      ['scale_set', 'backend', 'tier'],
      START_BUCKETS,
    ),
    startFailures: counter('runner_start_failures_total', 'Runner starts that failed, by reason.', [
      'scale_set',
      'backend',
      'reason',
    ]),
    reconnects: counter('runner_listener_reconnects_total', 'Message session reconnects of the listener.', [
      'scale_set',
      'reason',
    ]),
    undecodable: counter(
      'runner_undecodable_messages_total',
      'What could not be decoded, by kind: a message (acknowledged unread, its job events lost) or one job message of a batch (skipped).',
      ['scale_set', 'kind'],
    ),
    adopted: counter('runner_adopted_total', 'Runners of a previous run adopted at start-up.', ['scale_set']),
    cleanedUp: counter(
      'runner_cleaned_up_total',
      "Everything runner removed, by kind: a runner's container, vm or machine, its registration at GitHub, or a message session.",
      ['scale_set', 'kind'],
    ),
  };
}

export type MetricSet = ReturnType<typeof defineMetrics>;
