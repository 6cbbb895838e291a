import { anySignal, delay, isAbortError } from '../../src/kernel/abort.js';
import type { Logger } from '../../src/log.js';
import { Backoff } from '../../src/util/backoff.js';
import type { RunChild, TartCli } from './cli.js';
import { watchRunner } from './guest.js';
import { listVms, localVms } from './list.js';
import { describeExit } from './vm.js';

export interface RunnerEnd {
  exitCode?: number;
  reason: string;
}

/**
 * Watches one runner VM until its runner ends, from two sources, whichever speaks first:
 * - the VM's `tart run` child (only for VMs this process booted): its exit means the VM is gone;
 * - the guest watcher exec (guest.ts), which returns when run.sh ends, with its exit code. It is the
 *   only source for VMs adopted after a restart. When the exec session breaks without an answer we
 *   ask `tart list` whether the VM still runs: if not, the runner is gone; if so, the guest agent
 *   hiccupped and the watcher is started again, with backoff.
 * `onEnd` is called at most once, never after `stop()`.
 */
export function superviseRunner(opts: {
  cli: TartCli;
  vm: string;
  run?: RunChild;
  logger: Logger;
  onEnd: (end: RunnerEnd) => void;
}): { stop: () => void } {
  const { cli, vm, logger } = opts;
  const ctl = new AbortController();
  const finish = (end: RunnerEnd) => {
    if (ctl.signal.aborted) return;
    ctl.abort();
    opts.onEnd(end);
  };
  void opts.run?.exited.then((exit) => finish({ reason: `vm stopped (tart run ${describeExit(exit)})` }));
  void watchLoop(cli, vm, logger, ctl.signal, finish).catch((err: unknown) => {
    if (!isAbortError(err) && !ctl.signal.aborted) logger.error({ err, vm }, 'runner watcher failed');
  });
  return { stop: () => ctl.abort() };
}

async function watchLoop(
  cli: TartCli,
  vm: string,
  logger: Logger,
  signal: AbortSignal,
  finish: (end: RunnerEnd) => void,
): Promise<void> {
  const backoff = new Backoff({ initial: 1_000, max: 30_000, jitter: 0.2 });
  while (!signal.aborted) {
    const r = await watchRunner(cli, vm, signal);
    if (r.kind === 'exited') return finish({ exitCode: r.exitCode, reason: 'runner exited' });
    if (r.kind === 'lost') return finish({ reason: 'runner process vanished' });
    let running = true; // unknown counts as running: retry rather than report a live runner as gone
    try {
      running =
        localVms(await listVms(cli, anySignal(signal, AbortSignal.timeout(30_000)))).get(vm)?.running ??
        false;
    } catch (err) {
      if (signal.aborted) return;
      logger.warn({ err, vm }, 'tart list failed while checking a runner VM');
    }
    if (!running) return finish({ reason: 'vm stopped' });
    await delay(backoff.next(), signal);
  }
}
