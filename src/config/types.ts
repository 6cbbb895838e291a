import type { BackendConfigs, BackendKind } from '../../backends/index.js';
import type { RunnerEnvChoice } from '../net/runner-network.js';
import type { NetworkConfig } from '../net/types.js';
import type { ProblemLocation } from '../schema/location.js';
import type { Secret } from '../secret.js';
import type { JobShape } from './shapes.js';
import type { WarmWindow } from './warm-schedule.js';

export type { BackendKind } from '../../backends/index.js';

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
  /** Where health-port was set (its file key, variable or flag), or would be written: errors about the port point there. */
  healthPortSource: ProblemLocation;
  /** Bearer token required on health/metrics/dashboard when set. */
  healthToken?: Secret;
  stateDir: string;
  /** Drain on SIGTERM: idle runners removed, busy ones get this long to finish. */
  drainTimeout: number;
  /** Delete the scale sets at GitHub on shutdown (default false: kept across restarts). */
  deleteScaleSetOnExit: boolean;
  /**
   * Keys of the secrets the config file writes literally (not as `env:VAR`), e.g. `token`,
   * `scaleset[1].github-app.private-key`: whoever can read the file can read them.
   */
  fileSecrets: string[];
  scaleSets: ScaleSetConfig[];
}

/** The daemon-wide part of the config, without the scale sets (what `runner status` needs). */
export type DaemonConfig = Omit<RunnerConfig, 'scaleSets' | 'fileSecrets'>;

export type GitHubAuth =
  | { kind: 'pat'; token: Secret }
  | { kind: 'app'; clientId: string; installationId: number; privateKey: Secret; privateKeyPath: string };

/**
 * One scale set. Every backend's table is resolved for every set (`docker`, `tart`, `dedalus`: the
 * types each backend derives from its own schema); `backend` says which one the set runs on.
 */
export interface ScaleSetConfig extends BackendConfigs {
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
  /** Windows with another min-runners (`[[schedule]]`): warm runners that follow the working day. */
  schedule: WarmWindow[];
  backend: BackendKind;
  runnerImage: string;
  /** Idle runners older than this are recycled (0 = never). */
  idleTimeout: number;
  /** Reconcile against the backend and GitHub at this interval. */
  reconcileInterval: number;
  /** Concurrent runner starts per scale set. */
  startConcurrency: number;
  /** Proxy and TLS trust for GitHub and the backend's API (`proxy`, `no-proxy`, `ca-file`, …). */
  network: NetworkConfig;
  /** What the runners get of `network` (`runner-env`): its proxy and CA, one of them, or nothing. */
  runnerEnv: RunnerEnvChoice;
  /** The job shape this set was made from (`[[scaleset.shape]]`); its size is in the backend's table already. */
  shape?: JobShape;
}
