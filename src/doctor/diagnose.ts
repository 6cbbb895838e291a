import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfigFlags, loadConfig } from '../config/index.js';
import type { RunnerConfig } from '../config/types.js';
import { Networks } from '../net/networks.js';
import { loadInstanceId } from '../state/instance.js';
import { acquireStateDirLock, type StateDirLock, StateDirLockError } from '../state/state-dir-lock.js';
import { type Liveness, livenessFromLockError, probeDaemon } from './liveness.js';
import { ScaleSetScan } from './scale-set-scan.js';
import type { FixOutcome, ScaleSetInspection } from './types.js';

export interface DoctorOptions {
  configFile?: string | undefined;
  env: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  fix: boolean;
  /**
   * The user says no daemon runs, where doctor cannot tell: the state-dir lock cannot be read or
   * taken, or it is free but a health server answers (a daemon from before the lock).
   */
  force: boolean;
  /** Per backend or GitHub call. */
  timeoutMs: number;
}

export interface DoctorReport {
  file: string;
  stateDir: string;
  daemon: Liveness;
  instanceId: string | undefined;
  scaleSets: ScaleSetInspection[];
  /** Set when --fix ran. */
  fixed: FixOutcome[] | undefined;
  /** Why --fix did not run, when it was asked for. */
  refused: string | undefined;
  /** Inspection or fix failures that are not tied to one finding. */
  errors: string[];
  ok: boolean;
}

/**
 * `runner doctor`: everything runner owns that nothing uses, across every scale set and backend of
 * the config, and with `fix` its removal. Fixing refuses while a daemon for the config may be alive:
 * it would race the daemon's own adoption and cleanup. Fixing holds the state-dir lock, so no daemon
 * can start in the middle of it either.
 */
export async function diagnose(opts: DoctorOptions): Promise<DoctorReport> {
  const config = await loadConfig({ file: opts.configFile, env: opts.env, flags: opts.flags ?? {} });
  // loadInstanceId would create an id; with none on disk no daemon of this config ever owned anything.
  const owned = await exists(join(config.stateDir, 'instance-id'));
  let lock: StateDirLock | undefined;
  let daemon: Liveness;
  if (opts.fix && owned) {
    try {
      lock = await acquireStateDirLock(config.stateDir, { command: 'runner doctor --fix' });
      daemon = await probeDaemon(config, { lockedByUs: true });
    } catch (err) {
      if (!(err instanceof StateDirLockError)) throw err;
      daemon = livenessFromLockError(err);
    }
  } else {
    daemon = await probeDaemon(config);
  }
  try {
    return await inspectAndFix(config, opts, daemon, owned);
  } finally {
    await lock?.release();
  }
}

async function inspectAndFix(
  config: RunnerConfig,
  opts: DoctorOptions,
  daemon: Liveness,
  owned: boolean,
): Promise<DoctorReport> {
  const report: DoctorReport = {
    file: config.file,
    stateDir: config.stateDir,
    daemon,
    instanceId: undefined,
    scaleSets: [],
    fixed: undefined,
    refused: opts.fix ? refusal(daemon, opts.force) : undefined,
    errors: [],
    ok: false,
  };
  if (!owned) {
    report.ok = report.refused === undefined;
    return report;
  }
  report.instanceId = await loadInstanceId(config.stateDir);
  const instanceId = report.instanceId;
  // GitHub and backend APIs are reached as the daemon reaches them: its proxy, its CA, one pool per setting.
  const networks = new Networks(opts.env);
  const scans = config.scaleSets.map(
    (set) =>
      new ScaleSetScan({
        config,
        set,
        instanceId,
        env: opts.env,
        network: networks.access(set.network),
        // --force: the user vouches that no daemon runs where doctor could not tell.
        daemon: daemon.state === 'unknown' && opts.force ? 'stopped' : daemon.state,
        timeoutMs: opts.timeoutMs,
      }),
  );
  try {
    report.scaleSets = await Promise.all(scans.map((s) => s.inspect()));
    if (opts.fix && report.refused === undefined) {
      report.fixed = [];
      for (const [i, scan] of scans.entries()) {
        const findings = report.scaleSets[i]?.findings ?? [];
        if (findings.length === 0) continue;
        const { outcomes, errors } = await scan.fix(findings);
        report.fixed.push(...outcomes);
        report.errors.push(...errors);
      }
    }
  } finally {
    for (const scan of scans) {
      const err = await scan.close();
      if (err) report.errors.push(err);
    }
    await networks.destroy();
  }
  const inspectErrors = report.scaleSets.flatMap((s) => s.errors);
  const findings = report.scaleSets.flatMap((s) => s.findings);
  // What was skipped as a running daemon's start in flight is that daemon's; otherwise it is unknown.
  const unchecked = daemon.state === 'running' ? [] : report.scaleSets.flatMap((s) => s.skipped);
  report.ok =
    report.refused === undefined &&
    inspectErrors.length === 0 &&
    unchecked.length === 0 &&
    report.errors.length === 0 &&
    (report.fixed ? report.fixed.every((f) => f.result === 'removed') : findings.length === 0);
  return report;
}

function refusal(daemon: Liveness, force: boolean): string | undefined {
  if (daemon.state === 'stopped') return undefined;
  if (daemon.state === 'running') {
    if (daemon.holder && !daemon.holder.command.startsWith('runner run')) {
      return `${daemon.detail}. Wait for it to finish, then run doctor --fix again`;
    }
    return `${daemon.detail}. Stop it first (runner service stop, or Ctrl-C the foreground runner run), then run doctor --fix again; a running daemon cleans up and adopts its own runners`;
  }
  if (force) return undefined;
  return `${daemon.detail}. Make sure no runner daemon with this config runs, then run doctor --fix --force`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    // Anything but "missing" (e.g. no permission) is left for loadInstanceId to report.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
