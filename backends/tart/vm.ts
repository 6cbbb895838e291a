import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { anySignal, delay, isAbortError } from '../../src/kernel/abort.js';
import type { Logger } from '../../src/log.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { type RunChild, type RunExit, type TartCli, TIMEOUTS, tail } from './cli.js';
import type { TartConfig } from './config.js';
import { TartError } from './errors.js';
import type { TartHost } from './host.js';
import { type Journal, type JournalEntry, PROCESS_TAG } from './journal.js';
import { macFor, writeMac } from './mac.js';

/** Everything VM lifecycle code needs; one per backend. */
export interface VmEnv {
  cli: TartCli;
  journal: Journal;
  host: TartHost;
  logger: Logger;
  image: string;
  tart: TartConfig;
  instanceId: string;
  /** Where `tart run` output goes, one file per VM. */
  logDir: string;
  /** Hands over work nobody awaits, so the backend's close() waits for it. */
  track(p: Promise<unknown>): void;
}

export interface BootedVm {
  name: string;
  mac: string;
  run: RunChild;
}

const PROBE_INTERVAL_MS = 250;
/** Upper bound for stop + delete of one VM, so shutdown can never hang on a wedged tart. */
const DESTROY_TIMEOUT_MS = 30_000;

export const logFileOf = (env: VmEnv, vm: string) => join(env.logDir, `${vm}.log`);

/**
 * clone → set (cpu/memory, when configured) → deterministic MAC → `tart run` → wait until the guest
 * agent answers `tart exec <vm> true`, within boot-timeout. The caller took host slot `slot` for
 * `name`; from here on bootVm owns it and releases it on failure.
 * The journal record is written before the clone; on any failure or abort the VM is deleted and the
 * record and slot released, so a failed boot leaves nothing behind.
 */
export async function bootVm(
  env: VmEnv,
  name: string,
  slot: number,
  record: Pick<JournalEntry, 'kind' | 'runner' | 'runnerId'>,
  signal: AbortSignal,
): Promise<BootedVm> {
  if (signal.aborted) {
    env.host.release(name);
    throw signal.reason;
  }
  const mac = macFor(env.instanceId, slot);
  let run: RunChild | undefined;
  try {
    await env.journal.put(name, {
      ...record,
      phase: 'creating',
      mac,
      createdAt: new Date().toISOString(),
      proc: PROCESS_TAG,
    });
    await env.cli.call(['clone', env.image, name], { signal, timeout: TIMEOUTS.clone, vm: name });
    const set = setArgs(env.tart);
    if (set.length > 0)
      await env.cli.call(['set', name, ...set], { signal, timeout: TIMEOUTS.quick, vm: name });
    await writeMac(env.cli.home, name, mac);
    signal.throwIfAborted();
    run = env.cli.run(name, logFileOf(env, name));
    await waitForAgent(env, name, run, signal);
    await env.journal.patch(name, { phase: 'ready' });
    return { name, mac, run };
  } catch (err) {
    await destroyVm(env, name).catch((cleanupErr: unknown) =>
      env.logger.error({ err: cleanupErr, vm: name }, 'could not delete VM after a failed boot'),
    );
    if (isAbortError(err) || signal.aborted) throw signal.reason ?? err;
    throw err;
  }
}

export function setArgs(tart: Pick<TartConfig, 'cpu' | 'memory'>): string[] {
  const args: string[] = [];
  if (tart.cpu > 0) args.push('--cpu', String(tart.cpu));
  if (tart.memory > 0) args.push('--memory', String(tart.memory));
  return args;
}

async function waitForAgent(env: VmEnv, vm: string, run: RunChild, signal: AbortSignal): Promise<void> {
  const died = new AbortController();
  let booting = true;
  void run.exited.then(async (exit) => {
    if (!booting) return;
    const output = tail(await readFile(logFileOf(env, vm), 'utf8').catch(() => ''));
    died.abort(
      new TartError('TART_BOOT_FAILED', `VM ${vm}: tart run ${describeExit(exit)} during boot: ${output}`),
    );
  });
  const sig = anySignal(signal, died.signal);
  try {
    await pollUntil(
      async () => {
        const r = await env.cli.attempt(['exec', vm, 'true'], { signal: sig, timeout: TIMEOUTS.probe, vm });
        if (r.ok) return true;
        throw r.error; // becomes the "last seen" of a timeout
      },
      {
        timeout: env.tart.bootTimeout,
        interval: PROBE_INTERVAL_MS,
        signal: sig,
        what: `the guest agent of VM ${vm}`,
      },
    );
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (died.signal.aborted) throw died.signal.reason;
    throw new TartError('TART_BOOT_FAILED', `VM ${vm} did not boot: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    booting = false;
  }
}

export function describeExit(exit: RunExit): string {
  if (exit.error) return `could not start (${exit.error})`;
  return exit.signal ? `killed by ${exit.signal}` : `exited ${exit.exitCode ?? '?'}`;
}

/**
 * `tart stop` then `tart delete`: delete even when stop fails (a VM that is not running, or one whose
 * stop raced its own exit), and a VM that no longer exists counts as deleted. Only then are the record
 * and the host slot released; a VM that could not be deleted keeps both, so it still counts against
 * the cap and a later remove (or the next daemon's adoption) finishes the job. Retries twice.
 */
export async function destroyVm(env: VmEnv, vm: string, signal?: AbortSignal): Promise<void> {
  const sig = anySignal(signal, AbortSignal.timeout(DESTROY_TIMEOUT_MS));
  for (let attempt = 0; ; attempt++) {
    try {
      await stopAndDelete(env, vm, sig);
      break;
    } catch (err) {
      if (attempt >= 2 || sig.aborted) throw err;
      env.logger.warn({ err, vm }, 'deleting VM failed; retrying');
      await delay(1_000 * (attempt + 1), sig);
    }
  }
  await env.journal.drop(vm);
  env.host.release(vm);
  await rm(logFileOf(env, vm), { force: true });
}

async function stopAndDelete(env: VmEnv, vm: string, signal: AbortSignal): Promise<void> {
  const stop = await env.cli.attempt(['stop', vm, '--timeout', '5'], { signal, timeout: TIMEOUTS.stop, vm });
  if (!stop.ok && !stop.error.vmNotRunning && !stop.error.vmMissing) {
    env.logger.warn({ err: stop.error, vm }, 'tart stop failed; deleting anyway');
  }
  const del = await env.cli.attempt(['delete', vm], { signal, timeout: TIMEOUTS.quick, vm });
  if (!del.ok && !del.error.vmMissing) throw del.error;
}
