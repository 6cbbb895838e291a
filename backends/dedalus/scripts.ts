import { type RunnerNetwork, runnerVariables } from '../../src/net/runner-network.js';
import { caFilesStream, splitCaFilesCommand } from '../guest-ca.js';
import type { CreateExecutionBody } from './api/schemas.js';

/**
 * The commands we run on a machine, as Dedalus executions (execve, no shell: each wraps `/bin/sh -c`).
 * None of them carries a secret in argv: the JIT config and the proxy (its credentials) travel in env,
 * the provision script and the CA files on stdin.
 * `runnerDir` is checked to be a plain absolute path (options.ts), so it is safe inside single quotes.
 */

/** Guest HOME: the docs say only /home/machine survives sleep, so caches (~/.cache, ~/.npm) go there. */
export const GUEST_HOME = '/home/machine';

/**
 * The runner's CA files on the machine. Rewritten (or removed) before every job: a machine lives for
 * many jobs, and a CA changed or dropped in the config must not outlive the daemon that set it.
 */
export const GUEST_CA_DIR = `${GUEST_HOME}/.runner-ca`;

/** Exit code of the scrub when `run.sh` is missing: the provision script did not install the runner. */
export const RUNNER_MISSING_EXIT = 42;

export const DEFAULT_PROVISION_SCRIPT = `#!/bin/sh
# Built-in default: installs nothing. Point [dedalus] provision-script at a script that installs the
# runner (run.sh) into $RUNNER_DIR and the toolchains your jobs need.
set -eu
mkdir -p "$RUNNER_DIR/_work"
`;

/** Writes the script from stdin to a file and runs it: honours a shebang, else /bin/sh. */
export function provisionExecution(
  runnerDir: string,
  script: string,
  timeoutMs: number,
): CreateExecutionBody {
  const file = `${runnerDir}/.provision.sh`;
  return {
    command: [
      '/bin/sh',
      '-c',
      [
        'set -eu',
        `mkdir -p '${runnerDir}'`,
        `cat > '${file}'`,
        `chmod 700 '${file}'`,
        `if [ "$(head -c 2 '${file}')" = '#!' ]; then exec '${file}'; else exec /bin/sh '${file}'; fi`,
      ].join('\n'),
    ],
    cwd: GUEST_HOME,
    env: { HOME: GUEST_HOME, RUNNER_DIR: runnerDir },
    stdin: script,
    timeout_ms: timeoutMs,
  };
}

/**
 * Ends what a previous runner left running and empties its workspace (`_work`) and registration files,
 * keeping everything else under /home/machine (tool caches). The pid file is trusted only if that
 * process's command line names it, so a stale pid never kills an unrelated process.
 */
export function scrubExecution(runnerDir: string, timeoutMs: number): CreateExecutionBody {
  const pidfile = `${runnerDir}/.runner.pid`;
  return {
    command: [
      '/bin/sh',
      '-c',
      [
        'set -u',
        'killtree() { for c in $(pgrep -P "$1" 2>/dev/null); do killtree "$c"; done; kill -KILL "$1" 2>/dev/null || true; }',
        `if [ -f '${pidfile}' ]; then`,
        `  pid=$(cat '${pidfile}')`,
        `  if [ -n "$pid" ] && grep -q '${pidfile}' "/proc/$pid/cmdline" 2>/dev/null; then killtree "$pid"; fi`,
        `  rm -f '${pidfile}'`,
        'fi',
        `rm -rf '${runnerDir}/_work' '${runnerDir}/.runner' '${runnerDir}/.credentials' '${runnerDir}/.credentials_rsaparams'`,
        `mkdir -p '${runnerDir}/_work' || exit 1`,
        `[ -x '${runnerDir}/run.sh' ] || { echo "no executable run.sh in ${runnerDir}" >&2; exit ${RUNNER_MISSING_EXIT}; }`,
      ].join('\n'),
    ],
    cwd: GUEST_HOME,
    env: { HOME: GUEST_HOME },
    timeout_ms: timeoutMs,
  };
}

/**
 * `run.sh` under a small shell that records its pid (for the scrub) and removes it on a normal exit.
 * The runner reads the JIT config from ACTIONS_RUNNER_INPUT_JITCONFIG, never from argv. The proxy
 * variables go in env with it; the CA files come on stdin and are written to GUEST_CA_DIR first.
 */
export function runnerExecution(
  runnerDir: string,
  jitConfig: string,
  timeoutMs: number,
  runnerNetwork?: RunnerNetwork,
): CreateExecutionBody {
  const pidfile = `${runnerDir}/.runner.pid`;
  const ca = runnerNetwork?.ca;
  const writeCa = ca
    ? [`cadir='${GUEST_CA_DIR}'`, 'mkdir -p "$cadir"', `${splitCaFilesCommand('cadir')} || exit 1`]
    : [];
  const network = runnerNetwork ? Object.fromEntries(runnerVariables(runnerNetwork, GUEST_CA_DIR)) : {};
  return {
    command: [
      '/bin/sh',
      '-c',
      [
        `echo $$ > '${pidfile}'`,
        `rm -rf '${GUEST_CA_DIR}'`,
        ...writeCa,
        `'${runnerDir}/run.sh'`,
        'rc=$?',
        `rm -f '${pidfile}'`,
        'exit $rc',
      ].join('\n'),
    ],
    cwd: runnerDir,
    env: {
      ...network,
      ACTIONS_RUNNER_INPUT_JITCONFIG: jitConfig,
      HOME: GUEST_HOME,
      // Executions may run as root; the runner refuses root unless told otherwise.
      RUNNER_ALLOW_RUNASROOT: '1',
    },
    ...(ca ? { stdin: caFilesStream(ca) } : {}),
    timeout_ms: timeoutMs,
  };
}
