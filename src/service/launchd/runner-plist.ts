import { type ServicePlan, stopTimeoutSeconds } from '../plan.js';
import { renderPlist } from './plist.js';

/**
 * launchd has no EnvironmentFile, and secrets must not sit in a world-readable plist. So the job starts
 * through /bin/sh, which exports the 0600 env file (if present) and then execs runner: the plist holds
 * only the file's path. The env file therefore has to be valid sh: KEY=value, quoted where needed.
 */
const LOAD_ENV_THEN_EXEC = 'if [ -f "$1" ]; then set -a; . "$1"; set +a; fi; shift; exec "$@"';

export function renderLaunchdPlist(plan: ServicePlan): string {
  if (!plan.logFile) throw new Error('a launchd job needs a log file');
  return renderPlist({
    Label: plan.label,
    ProgramArguments: [
      '/bin/sh',
      '-c',
      LOAD_ENV_THEN_EXEC,
      plan.label,
      plan.envFile,
      ...plan.execStart,
      'run',
      '--config',
      plan.configPath,
    ],
    EnvironmentVariables: plan.environment,
    WorkingDirectory: plan.stateDir,
    RunAtLoad: true,
    // Restart after a crash, not after a clean exit (a drain that finished on SIGTERM).
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 5,
    // Seconds between SIGTERM and SIGKILL when launchd stops the job: long enough to drain.
    ExitTimeOut: stopTimeoutSeconds(plan.drainTimeoutMs),
    ProcessType: 'Standard',
    StandardOutPath: plan.logFile,
    StandardErrorPath: plan.logFile,
  });
}
