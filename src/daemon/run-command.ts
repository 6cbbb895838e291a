import { ConfigError, type ConfigFlags, loadConfig } from '../config/index.js';
import { exposureOf, secretFiles } from '../config/secret-files.js';
import type { RunnerConfig } from '../config/types.js';
import { systemClock } from '../kernel/clock.js';
import { createLogger, type Logger } from '../log.js';
import { formatSeconds } from '../schema/units.js';
import { removeUnfinishedWrites } from '../state/atomic-file.js';
import { acquireStateDirLock, type StateDirLock, StateDirLockError } from '../state/state-dir-lock.js';
import { type Daemon, startDaemon } from './daemon.js';
import { exitDeadline, LINGER_MS, SHUTDOWN_MARGIN_MS } from './exit-deadline.js';
import { startedByNpm, watchParent } from './parent-watch.js';

export interface RunCommandOptions {
  configFile?: string;
  flags: ConfigFlags;
  env?: NodeJS.ProcessEnv;
  /** Where logs go (stderr by default). */
  logDestination?: NodeJS.WritableStream;
  /** Called after a config error, before exit: the CLI prints it. */
  onConfigError?(err: ConfigError): void;
}

/**
 * `runner run`: load and validate the config before anything touches a backend, start the daemon,
 * and turn signals into a graceful drain (first) or an immediate exit (second).
 * Resolves with the process exit code.
 */
export async function runCommand(opts: RunCommandOptions): Promise<number> {
  let config: RunnerConfig;
  try {
    config = await loadConfig({ file: opts.configFile, env: opts.env ?? process.env, flags: opts.flags });
  } catch (err) {
    if (err instanceof ConfigError) {
      opts.onConfigError?.(err);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    destination: opts.logDestination,
  });
  const exits = { clock: systemClock, logger, exit: (code: number) => process.exit(code) };
  // Signals are ours from here on, before anything is started: a SIGTERM during start-up (taking the
  // lock, the backends, the health server) must stop the daemon as cleanly as one sent later, never kill
  // it half-way with the default handler.
  const target = new StopTarget();
  const stop = installStopHandlers(target, logger, () =>
    exitDeadline(
      config.drainTimeout + SHUTDOWN_MARGIN_MS,
      1,
      `shutdown did not finish within drain-timeout + ${formatSeconds(SHUTDOWN_MARGIN_MS)}; exiting (runners left are adopted by the next start)`,
      () => (target.daemon ? stillRunning(target.daemon) : { phase: 'starting' }),
      exits,
    ),
  );
  try {
    const lock = await lockStateDir(config.stateDir, logger);
    if (!lock) return 1;
    try {
      await sweepUnfinishedWrites(config.stateDir, logger);
      await warnExposedSecrets(config, logger);
      if (target.stopRequested) return 0;
      const daemon = await startDaemon(config, { logger });
      target.attach(daemon);
      await daemon.done;
      await daemon.shutdown();
    } finally {
      await lock.release();
    }
  } finally {
    stop();
  }
  // Done: anything still open now (a request the engine never answered, a stray timer) must not keep
  // a stopped daemon alive until a second signal.
  exitDeadline(LINGER_MS, 0, 'exiting with handles still open after shutdown', () => ({}), exits);
  return 0;
}

/**
 * One daemon per state-dir: a second one would adopt the first one's runners and remove them when it
 * stops. Refused at once (never waits for the holder), in one line naming the holder and what to do.
 */
async function lockStateDir(stateDir: string, logger: Logger): Promise<StateDirLock | undefined> {
  try {
    return await acquireStateDirLock(stateDir, { command: 'runner run' });
  } catch (err) {
    if (!(err instanceof StateDirLockError)) throw err;
    logger.error({ stateDir, code: err.code, holderPid: err.holder?.pid }, err.message);
    return undefined;
  }
}

/**
 * A daemon killed mid-write (kill -9, a power cut) leaves the temp file of that write; its target holds
 * the old or the new content either way. Nobody else writes under the state-dir while we hold its lock.
 */
async function sweepUnfinishedWrites(stateDir: string, logger: Logger): Promise<void> {
  const removed = await removeUnfinishedWrites(stateDir).catch((err: unknown) => {
    logger.warn({ err, stateDir }, 'could not look for temp files a previous run left in the state-dir');
    return [];
  });
  if (removed.length > 0)
    logger.info({ stateDir, files: removed }, 'removed temp files of writes a previous run did not finish');
}

/**
 * A secret in a file others can read gets a warning, not a refusal. ssh refuses such a key because
 * the user is at the keyboard and has other ways in; a daemon that stopped starting over a mode that
 * was accepted yesterday would take a fleet down at its next restart (or update), and refusing does
 * not un-expose a secret that was already readable. `runner validate` shows it as ✗.
 */
async function warnExposedSecrets(config: RunnerConfig, logger: Logger): Promise<void> {
  for (const file of secretFiles(config)) {
    const exposed = await exposureOf(file.path).catch(() => undefined);
    if (!exposed) continue;
    logger.warn(
      { file: file.path, mode: exposed.mode },
      `${file.path} holds ${file.holds}, and ${exposed.who} (mode ${exposed.mode}): run ${exposed.fix}`,
    );
  }
}

/** What the daemon was still doing, for the line that explains a forced exit. */
function stillRunning(daemon: Daemon): Record<string, unknown> {
  return {
    scaleSets: daemon.status().scaleSets.map((s) => ({
      name: s.name,
      phase: s.phase,
      runners: Object.fromEntries(Object.entries(s.runnerCounts).filter(([, n]) => n > 0)),
      ...(s.backendStall ? { backendStall: s.backendStall } : {}),
      ...(s.stateFile ? { stateFile: s.stateFile } : {}),
    })),
  };
}

/**
 * The first SIGTERM/SIGINT drains (`onFirstStop` arms the hard deadline), a second one exits at once.
 * Started by npm (`npx runner run`), the parent's disappearance is a first stop too: npm's shell dies of
 * the SIGTERM meant for us and never passes it on. Returns the function that undoes all of it.
 */
/**
 * What a stop applies to: nothing yet while the daemon starts (the request is remembered and the daemon
 * shuts down as soon as it exists), the daemon afterwards.
 */
class StopTarget {
  daemon: Daemon | undefined;
  stopRequested = false;

  attach(daemon: Daemon): void {
    this.daemon = daemon;
    if (this.stopRequested) void daemon.shutdown();
  }

  stop(): void {
    this.stopRequested = true;
    void this.daemon?.shutdown();
  }
}

function installStopHandlers(target: StopTarget, logger: Logger, onFirstStop: () => () => void): () => void {
  let count = 0;
  let cancelDeadline = () => {};
  const drain = (fields: Record<string, unknown>, msg: string) => {
    logger.info(fields, msg);
    cancelDeadline = onFirstStop();
    target.stop();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      drain(
        { signal: sig },
        'draining; send the signal again to exit now (runners are adopted by the next start)',
      );
      return;
    }
    logger.warn({ signal: sig }, 'forced exit: runners keep running and are adopted by the next start');
    target.daemon?.abort();
    // Give pino a tick to flush the line above.
    setImmediate(() => process.exit(130));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let stopWatching = () => {};
  if (startedByNpm(process.env)) {
    logger.info(
      'started through npm (npx, npm run): a SIGTERM sent to npm does not reach runner; under a supervisor run the runner binary itself (README: Running the daemon)',
    );
    stopWatching = watchParent({
      clock: systemClock,
      ppid: () => process.ppid,
      onGone: (parent) => {
        if (count > 0) return;
        count++;
        drain(
          { formerParent: parent },
          'the npm process that started runner is gone (a SIGTERM to npx never reaches runner); draining as on SIGTERM',
        );
      },
    });
  }
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    stopWatching();
    cancelDeadline();
  };
}
