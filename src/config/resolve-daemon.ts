import { join } from 'node:path';
import type { Checker } from './checker.js';
import type { GlobalSettings } from './schema.js';
import type { RunnerConfig } from './types.js';

export interface Identity {
  uid: number;
  home: string;
}

/** Root runs the service from /var/lib; a user keeps state where XDG says user state goes. */
export function defaultStateDir(env: NodeJS.ProcessEnv, who: Identity): string {
  if (who.uid === 0) return '/var/lib/runner';
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg?.startsWith('/')) return join(xdg, 'runner');
  return join(who.home, '.local', 'state', 'runner');
}

/** The daemon-wide part of RunnerConfig (everything but the scale sets). */
export function resolveDaemon(
  g: GlobalSettings,
  file: string,
  c: Checker,
  who: Identity,
): Omit<RunnerConfig, 'scaleSets' | 'fileSecrets'> {
  const stateDir = g['state-dir'];
  const config: Omit<RunnerConfig, 'scaleSets' | 'fileSecrets'> = {
    file,
    logLevel: g['log-level'],
    logFormat: g['log-format'],
    healthHost: g['health-host'],
    healthPort: g['health-port'],
    stateDir:
      stateDir === undefined ? defaultStateDir(c.io.env, who) : c.path(undefined, ['state-dir'], stateDir),
    drainTimeout: g['drain-timeout'],
    deleteScaleSetOnExit: g['delete-scale-set-on-exit'],
  };
  const token = g['health-token'] && c.secret(g['health-token'], undefined, ['health-token']);
  if (token) config.healthToken = token;
  return config;
}
