import { join } from 'node:path';
import type { ServiceManagerKind, ServiceScope } from './plan.js';

export const SERVICE_NAME = 'runner';
/** launchd label (reverse-DNS style, unique on the host). */
export const LAUNCHD_LABEL = 'runner.autoscaler';
/** The account a system service runs as when it exists (see `--create-user`). */
export const SERVICE_USER = 'runner';

/** How the service manager names the job: the unit name under systemd, the label under launchd. */
export function serviceLabel(manager: ServiceManagerKind): string {
  return manager === 'launchd' ? LAUNCHD_LABEL : SERVICE_NAME;
}

export interface ServicePaths {
  unitFile: string;
  configPath: string;
  envFile: string;
  stateDir: string;
  logFile?: string;
}

/** Default locations, as they are on the target system (not prefixed by a test root). */
export function defaultServicePaths(
  manager: ServiceManagerKind,
  scope: ServiceScope,
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): ServicePaths {
  const xdgConfig = env.XDG_CONFIG_HOME || join(home, '.config');
  const xdgState = env.XDG_STATE_HOME || join(home, '.local/state');
  if (manager === 'systemd') {
    return scope === 'system'
      ? {
          unitFile: `/etc/systemd/system/${SERVICE_NAME}.service`,
          configPath: '/etc/runner/config.toml',
          envFile: '/etc/runner/runner.env',
          stateDir: '/var/lib/runner',
        }
      : {
          unitFile: join(xdgConfig, 'systemd/user', `${SERVICE_NAME}.service`),
          configPath: join(xdgConfig, 'runner/config.toml'),
          envFile: join(xdgConfig, 'runner/runner.env'),
          stateDir: join(xdgState, 'runner'),
        };
  }
  return scope === 'system'
    ? {
        unitFile: `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`,
        configPath: '/etc/runner/config.toml',
        envFile: '/etc/runner/runner.env',
        stateDir: '/Library/Application Support/runner',
        logFile: '/Library/Logs/runner/runner.log',
      }
    : {
        unitFile: join(home, 'Library/LaunchAgents', `${LAUNCHD_LABEL}.plist`),
        configPath: join(xdgConfig, 'runner/config.toml'),
        envFile: join(xdgConfig, 'runner/runner.env'),
        stateDir: join(home, 'Library/Application Support/runner'),
        logFile: join(home, 'Library/Logs/runner/runner.log'),
      };
}

/** Maps a path on the target system into `root` (like DESTDIR), so tests install into a temp dir. */
export function underRoot(root: string, path: string): string {
  return root === '/' ? path : join(root, path);
}
