import type { Secret } from '../secret.js';

/**
 * The resolved configuration: what the daemon runs on after file, env and flags are merged and
 * validated. Durations are milliseconds, sizes are bytes unless the name says otherwise.
 */
export interface RunnerConfig {
  /** Path of the config file ('' when none), for messages. */
  file: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'text' | 'json';
  healthHost: string;
  /** 0 disables the health server. */
  healthPort: number;
  /** Bearer token required on health/metrics/dashboard when set. */
  healthToken?: Secret;
  stateDir: string;
  /** Drain on SIGTERM: idle runners removed, busy ones get this long to finish. */
  drainTimeout: number;
  /** Delete the scale sets at GitHub on shutdown (default false: kept across restarts). */
  deleteScaleSetOnExit: boolean;
  scaleSets: ScaleSetConfig[];
}

export type BackendName = 'docker' | 'tart' | 'dedalus';

export type GitHubAuth =
  | { kind: 'pat'; token: Secret }
  | { kind: 'app'; clientId: string; installationId: number; privateKey: Secret; privateKeyPath: string };

export interface ScaleSetConfig {
  /** Index in `[[scaleset]]` (or 0 for the single top-level set): used in error messages. */
  index: number;
  url: string;
  name: string;
  auth: GitHubAuth;
  runnerGroup: string;
  /** Labels sent to GitHub; defaults to [name]. */
  labels: string[];
  minRunners: number;
  maxRunners: number;
  backend: BackendName;
  runnerImage: string;
  /** Idle runners older than this are recycled (0 = never). */
  idleTimeout: number;
  /** Reconcile against the backend and GitHub at this interval. */
  reconcileInterval: number;
  /** Concurrent runner starts per scale set. */
  startConcurrency: number;
  docker: DockerConfig;
  tart: TartConfig;
  dedalus: DedalusConfig;
}

export interface DockerConfig {
  /** unix:///path, tcp://host:port, ssh://user@host, or '' for DOCKER_HOST / the default socket. */
  host: string;
  network: string;
  /** Mount the host Docker socket into runners (gives jobs control of the host). */
  dind: boolean;
  /** Mount path of the shared cache volume in runners ('' = none). */
  sharedVolume: string;
  /** Name of the shared cache volume ('' = `runner-cache-<scale set>`). */
  sharedVolumeName: string;
  /** Memory limit in bytes (0 = none). */
  memory: number;
  /** CPUs (fractional allowed; 0 = none). */
  cpus: number;
  platform: string;
  pullPolicy: 'always' | 'if-not-present' | 'never';
  registryAuth?: { username: string; password: Secret; serverAddress: string };
  env: Record<string, string>;
  /** Extra mounts, docker `--mount`-style: { type: 'bind'|'volume'|'tmpfs', source, target, readOnly }. */
  mounts: { type: 'bind' | 'volume' | 'tmpfs'; source: string; target: string; readOnly: boolean }[];
  /** Command run in the container; default ['/home/runner/run.sh']. */
  command: string[];
  /** User in the container ('' = image default). */
  user: string;
  /** Remove buildx builders our runners leave behind. */
  buildxCleanup: boolean;
}

export interface TartConfig {
  home: string;
  runnerDir: string;
  poolSize: number;
  cpu: number;
  /** MiB. */
  memory: number;
  maxVms: number;
  bootTimeout: number;
  pullPolicy: 'always' | 'if-not-present' | 'never';
  pruneInterval: number;
  pruneMaxAge: number;
  /** Bytes (0 = no cap). */
  pruneSpaceBudget: number;
}

export interface DedalusSchedule {
  /** Cron-like window: days 'mon-fri', hours '08:00-18:00' (local time of the daemon). */
  days: string;
  hours: string;
  sleeping?: number;
  warm?: number;
}

export interface DedalusConfig {
  apiKey?: Secret;
  baseUrl: string;
  vcpu: number;
  memoryMib: number;
  storageGib: number;
  sleeping: number;
  warm: number;
  max: number;
  schedule: DedalusSchedule[];
  provisionScript: string;
  runnerDir: string;
  jobTimeout: number;
  reuse: boolean;
  recycleAfterJobs: number;
  recycleAfter: number;
}
