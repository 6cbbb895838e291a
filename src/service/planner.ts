import { dirname, isAbsolute, join, resolve } from 'node:path';
import { configKeys, envVarName } from '../config/keys.js';
import { parseDuration } from '../schema/units.js';
import type { ConfigFacts } from './config-facts.js';
import { SERVICE_USER, type ServicePaths, serviceLabel } from './paths.js';
import type { ServiceManagerKind, ServicePlan, ServiceScope } from './plan.js';

/** The config's own default, for a config that sets no drain-timeout. */
export function defaultDrainTimeoutMs(): number {
  const key = configKeys().find((k) => k.path === 'drain-timeout');
  const ms = key?.default ? parseDuration(JSON.parse(key.default) as string) : undefined;
  if (ms === undefined) throw new Error('config schema has no default drain-timeout');
  return ms;
}

export interface PlanInput {
  manager: ServiceManagerKind;
  scope: ServiceScope;
  runnerVersion: string;
  home: string;
  paths: ServicePaths;
  /** --config-path, else the default of the scope. */
  configPath?: string;
  execStart: string[];
  /** undefined: no config file at that path yet. */
  facts: ConfigFacts | undefined;
  /** The dedicated account exists (or will be created with --create-user). */
  serviceUserAvailable: boolean;
  dockerGroupExists: boolean;
  /** The installer's environment, for TART_HOME. */
  env: NodeJS.ProcessEnv;
}

export interface PlanResult {
  plan: ServicePlan;
  /** Things the operator should know: fall-backs taken, files to create. */
  notes: string[];
}

export function planService(input: PlanInput): PlanResult {
  const notes: string[] = [];
  const configPath = resolve(input.configPath ?? input.paths.configPath);
  const facts = input.facts ?? { backends: [] };
  if (!input.facts)
    notes.push(`no config at ${configPath} yet: create it with \`runner init --output ${configPath}\``);

  let stateDir = facts.stateDir ?? input.paths.stateDir;
  if (!isAbsolute(stateDir)) {
    stateDir = resolve(dirname(configPath), stateDir);
    notes.push(`state-dir is relative; the service uses ${stateDir} (next to the config)`);
  }

  const system = input.scope === 'system';
  const dedicated = system && input.manager === 'systemd' && input.serviceUserAvailable;
  if (system && input.manager === 'systemd' && !dedicated) {
    notes.push(
      `no "${SERVICE_USER}" user: the service will run as root. Re-run with --create-user (or create the user) for a dedicated account`,
    );
  }
  const docker = facts.backends.includes('docker');
  const groups = dedicated && docker && input.dockerGroupExists ? ['docker'] : [];
  if (dedicated && docker && !input.dockerGroupExists) {
    notes.push(
      'backend is docker but there is no "docker" group: give the runner user access to the Docker socket',
    );
  }

  const tartHome = facts.tartHome ?? input.env.TART_HOME;
  const inTmp = underTmp([
    ...input.execStart.filter((p) => isAbsolute(p)),
    configPath,
    input.paths.envFile,
    stateDir,
    ...(tartHome ? [tartHome] : []),
  ]);
  if (system && input.manager === 'systemd' && inTmp.length > 0) {
    notes.push(
      `${inTmp.join(', ')} ${inTmp.length === 1 ? 'is' : 'are'} under /tmp: the unit leaves PrivateTmp off so the service can see ${inTmp.length === 1 ? 'it' : 'them'}, but /tmp is emptied at reboot; move ${inTmp.length === 1 ? 'it' : 'them'} for a service that lasts`,
    );
  }
  return {
    notes,
    plan: {
      manager: input.manager,
      scope: input.scope,
      runnerVersion: input.runnerVersion,
      unitFile: input.paths.unitFile,
      label: serviceLabel(input.manager),
      execStart: input.execStart,
      configPath,
      envFile: input.paths.envFile,
      stateDir,
      writablePaths:
        dirname(configPath) === stateDir
          ? [{ path: stateDir }]
          : [{ path: stateDir }, { path: dirname(configPath), optional: true }],
      backends: facts.backends,
      ...(dedicated ? { serviceUser: SERVICE_USER } : {}),
      supplementaryGroups: groups,
      environment: {
        PATH: servicePath(input.manager, input.scope, input.home, input.execStart),
        ...(tartHome ? { TART_HOME: tartHome } : {}),
        // Without state-dir in the file the daemon would pick a default by the uid it runs as (the
        // runner user's home); pin it to the directory this unit makes writable.
        ...(facts.stateDir === undefined ? { [envVarName('state-dir')]: stateDir } : {}),
      },
      drainTimeoutMs: facts.drainTimeoutMs ?? defaultDrainTimeoutMs(),
      privateTmp: inTmp.length === 0,
      ...(input.paths.logFile ? { logFile: input.paths.logFile } : {}),
    },
  };
}

/** The paths PrivateTmp would hide (it gives the service its own /tmp and /var/tmp). */
function underTmp(paths: readonly string[]): string[] {
  return unique(paths.filter((p) => /^\/(var\/)?tmp(\/|$)/.test(p)));
}

/**
 * Service managers start jobs with a bare PATH, and launchd's lacks Homebrew, where `tart` lives
 * (/opt/homebrew/bin on Apple silicon, /usr/local/bin on Intel). The runner's own directory comes
 * first so helper lookups find the same installation.
 */
export function servicePath(
  manager: ServiceManagerKind,
  scope: ServiceScope,
  home: string,
  execStart: readonly string[],
): string {
  const own = execStart[0] ? [dirname(execStart[0])] : [];
  const common = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const extra = manager === 'launchd' ? ['/opt/homebrew/bin', '/opt/homebrew/sbin'] : ['/snap/bin'];
  const personal = scope === 'user' ? [join(home, '.local/bin')] : [];
  return unique([...own, ...extra, ...common, ...personal]).join(':');
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
