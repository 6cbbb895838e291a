import {
  CA_VARIABLES,
  proxyEnvironment,
  RUNNER_CA_FILE,
  type RunnerNetwork,
} from '../../src/net/runner-network.js';
import type { Secret } from '../../src/secret.js';
import { caFilesStream, splitCaFilesCommand } from '../guest-ca.js';
import { type TartCli, TIMEOUTS } from './cli.js';

/**
 * Scripts run inside the VM through `tart exec` (the guest agent; no SSH, no network). They are
 * constants: the only variable input is the runner dir as `$1`; the JIT config, the proxy variables
 * and the CA files arrive on stdin (see startInput), which no `ps` on the host or in the guest shows.
 *
 * The runner is started detached (in the background, SIGHUP ignored) so it outlives the exec session:
 * the guest agent kills the command it ran when the session ends (exec.CommandContext), and a
 * guest-agent hiccup or a daemon restart must not kill a job. `trap '' HUP` rather than nohup: ignored
 * signals are inherited, and macOS's nohup can refuse to run outside a login session. Its exit is then observed by a second, long-lived exec
 * (WATCH) that returns when the runner ends; that exec's exit is the event. After a daemon crash
 * the new daemon simply starts WATCH again: everything it needs is in the guest's files.
 *
 * Guest files live in `${TMPDIR:-/tmp}/runner-job` (one job per boot, so one set per VM): `pid` of the
 * runner's wrapper, `exit` with run.sh's exit code (written via rename, never half-written), `runner.log`.
 * The JIT config is never written to the guest's disk: it goes from stdin into the environment of run.sh.
 *
 * The CA files go to `~/.runner-ca` (GUEST_CA_DIR; under the state directory should the guest agent give
 * no HOME) and the variables of CA_VARIABLES name them. Not
 * into the System keychain: that needs root and, since macOS 11, an authorization the guest agent
 * cannot give without a person at the screen. So the runner process itself (.NET, which on macOS
 * trusts the keychains only) needs the CA in the image's keychain; git, curl, Node and Python in the
 * job trust it through the variables.
 */

/** Where the CA files go in the guest, relative to the home of the user `tart exec` runs as. */
export const GUEST_CA_DIR = '.runner-ca';

const EXPORT_CA = CA_VARIABLES.map(([name, file]) => `${name}="$cadir/${file}"`).join(' ');

export const START_SCRIPT = `set -eu
dir=$1
state=\${TMPDIR:-/tmp}/runner-job
cadir=\${HOME:-$state}/${GUEST_CA_DIR}
if [ ! -x "$dir/run.sh" ]; then echo "no executable run.sh in $dir ([tart] runner-dir)" >&2; exit 3; fi
mkdir -p "$state"
rm -f "$state/exit" "$state/pid"
IFS= read -r ACTIONS_RUNNER_INPUT_JITCONFIG || true
if [ -z "$ACTIONS_RUNNER_INPUT_JITCONFIG" ]; then echo "empty JIT config on stdin" >&2; exit 4; fi
export ACTIONS_RUNNER_INPUT_JITCONFIG
while IFS= read -r line && [ -n "$line" ]; do
  case \${line%%=*} in ''|[0-9]*|*[!A-Za-z0-9_]*) echo "not a variable on stdin" >&2; exit 5 ;; esac
  export "$line"
done
rm -rf "$cadir"
mkdir -p "$cadir"
${splitCaFilesCommand('cadir')}
if [ -s "$cadir/${RUNNER_CA_FILE}" ]; then export ${EXPORT_CA}; else rmdir "$cadir"; fi
cd "$dir"
trap '' HUP
sh -c './run.sh; code=$?; echo "$code" > "$1.tmp"; mv "$1.tmp" "$1"' runner-job "$state/exit" > "$state/runner.log" 2>&1 < /dev/null &
echo $! > "$state/pid"
`;

/**
 * START_SCRIPT's stdin: the JIT config on the first line, then one `NAME=value` line per proxy
 * variable, an empty line, then the CA files (backends/guest-ca.ts).
 */
export function startInput(jitConfig: Secret, runnerNetwork?: RunnerNetwork): string {
  const lines = [jitConfig.reveal()];
  for (const [name, value] of runnerNetwork ? proxyEnvironment(runnerNetwork) : []) {
    // One line per variable: a line break in a value would end the list early.
    if (/[\r\n]/.test(value)) throw new Error(`runner variable ${name} has a line break in its value`);
    lines.push(`${name}=${value}`);
  }
  const ca = runnerNetwork?.ca;
  return `${lines.join('\n')}\n\n${ca ? caFilesStream(ca) : ''}`;
}

/** Prints `exit <code>` when run.sh has ended, or `lost` when its wrapper vanished without a code. */
export const WATCH_SCRIPT = `state=\${TMPDIR:-/tmp}/runner-job
while :; do
  if [ -f "$state/exit" ]; then echo "exit $(cat "$state/exit")"; exit 0; fi
  pid=$(cat "$state/pid" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    if [ -f "$state/exit" ]; then continue; fi
    echo lost; exit 0
  fi
  sleep 1
done
`;

export function startArgs(vm: string, runnerDir: string): string[] {
  return ['exec', '-i', vm, 'sh', '-c', START_SCRIPT, 'runner-start', runnerDir];
}

export function watchArgs(vm: string): string[] {
  return ['exec', vm, 'sh', '-c', WATCH_SCRIPT, 'runner-watch'];
}

/** Launches run.sh in the guest with the JIT config, the proxy and the CA, which travel on stdin only. */
export async function startRunner(
  cli: TartCli,
  vm: string,
  runnerDir: string,
  jitConfig: Secret,
  runnerNetwork: RunnerNetwork | undefined,
  signal: AbortSignal,
): Promise<void> {
  const input = startInput(jitConfig, runnerNetwork);
  await cli.call(startArgs(vm, runnerDir), { input, signal, timeout: TIMEOUTS.exec, vm });
}

export type WatchResult =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'lost' }
  | { kind: 'failed'; error: Error };

/** Blocks until the guest's runner ends (or the exec session breaks). */
export async function watchRunner(cli: TartCli, vm: string, signal: AbortSignal): Promise<WatchResult> {
  const r = await cli.attempt(watchArgs(vm), { signal, vm });
  const code = /^exit (\d+)$/m.exec(r.stdout);
  if (code) return { kind: 'exited', exitCode: Number(code[1]) };
  if (/^lost$/m.test(r.stdout)) return { kind: 'lost' };
  return { kind: 'failed', error: r.ok ? new Error(`unexpected watcher output: ${r.stdout}`) : r.error };
}
