import type { BackendKind } from '../config/types.js';

export type ServiceScope = 'system' | 'user';
export type ServiceManagerKind = 'systemd' | 'launchd';

/**
 * Everything a unit or plist is rendered from, resolved up front (paths absolute, user decided, PATH
 * built), so rendering is a pure function and tests can render any case without touching the host.
 */
export interface ServicePlan {
  manager: ServiceManagerKind;
  scope: ServiceScope;
  runnerVersion: string;
  /** Where the unit/plist goes on the target system. */
  unitFile: string;
  /** launchd label; systemd uses the unit file's name. */
  label: string;
  /** The executable, or `[node, script]` when runner is installed from npm. */
  execStart: string[];
  configPath: string;
  /** Secrets: systemd EnvironmentFile, sourced by /bin/sh under launchd. */
  envFile: string;
  stateDir: string;
  /**
   * ReadWritePaths of the sandboxed system unit. A path that must exist when the unit starts would
   * fail it with 226/NAMESPACE if missing, so only what install itself creates is required.
   */
  writablePaths: { path: string; optional?: boolean }[];
  backends: BackendKind[];
  /** Dedicated account the system unit runs as; undefined runs as root (system) or the user (user). */
  serviceUser?: string;
  supplementaryGroups: string[];
  /** Non-secret environment: PATH (so docker/tart are found), TART_HOME. */
  environment: Record<string, string>;
  drainTimeoutMs: number;
  /**
   * Whether the sandboxed system unit gets a private /tmp (PrivateTmp=yes). Off when the executable,
   * config, env file or state lives under /tmp or /var/tmp: a private /tmp would hide them from the
   * service, which then fails to start (exit 203/EXEC) or runs without its config and state.
   */
  privateTmp: boolean;
  /** launchd writes stdout/stderr here; under systemd journald collects them. */
  logFile?: string;
}

/** Seconds the service manager waits after SIGTERM before SIGKILL: the drain plus time to clean up. */
export function stopTimeoutSeconds(drainTimeoutMs: number): number {
  return Math.ceil(drainTimeoutMs / 1000) + 30;
}
