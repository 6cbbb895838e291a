import type { Secret } from '../../src/secret.js';
import { type TartCli, TIMEOUTS } from './cli.js';

/**
 * Scripts run inside the VM through `tart exec` (the guest agent; no SSH, no network). They are
 * constants: the only variable input is the runner dir as `$1`, and the JIT config arrives on stdin.
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
 */
export const START_SCRIPT = `set -eu
dir=$1
state=\${TMPDIR:-/tmp}/runner-job
if [ ! -x "$dir/run.sh" ]; then echo "no executable run.sh in $dir ([tart] runner-dir)" >&2; exit 3; fi
mkdir -p "$state"
rm -f "$state/exit" "$state/pid"
ACTIONS_RUNNER_INPUT_JITCONFIG=$(cat)
if [ -z "$ACTIONS_RUNNER_INPUT_JITCONFIG" ]; then echo "empty JIT config on stdin" >&2; exit 4; fi
export ACTIONS_RUNNER_INPUT_JITCONFIG
cd "$dir"
trap '' HUP
sh -c './run.sh; code=$?; echo "$code" > "$1.tmp"; mv "$1.tmp" "$1"' runner-job "$state/exit" > "$state/runner.log" 2>&1 < /dev/null &
echo $! > "$state/pid"
`;

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

/** Launches run.sh in the guest with the JIT config, which travels on stdin only. */
export async function startRunner(
  cli: TartCli,
  vm: string,
  runnerDir: string,
  jitConfig: Secret,
  signal: AbortSignal,
): Promise<void> {
  await cli.call(startArgs(vm, runnerDir), { input: jitConfig.reveal(), signal, timeout: TIMEOUTS.exec, vm });
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
