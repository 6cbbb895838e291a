import { ConfigError, type ConfigFlags, loadConfig } from '../config/index.js';
import { exposureOf, secretFiles } from '../config/secret-files.js';
import type { RunnerConfig } from '../config/types.js';
import { createLogger, type Logger } from '../log.js';
import { acquireStateDirLock, type StateDirLock, StateDirLockError } from '../state/state-dir-lock.js';
import { type Daemon, startDaemon } from './daemon.js';

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
 * `runner run`: load and validate the config and take the state-dir lock before anything touches a
 * backend or GitHub, start the daemon, and turn signals into a graceful drain (first) or an immediate
 * exit (second). Resolves with the process exit code.
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
  const lock = await lockStateDir(config.stateDir, logger);
  if (!lock) return 1;
  await warnExposedSecrets(config, logger);
  try {
    const daemon = await startDaemon(config, { logger });
    const stop = installSignalHandlers(daemon, logger);
    try {
      await daemon.done;
      await daemon.shutdown();
    } finally {
      stop();
    }
  } finally {
    await lock.release();
  }
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

function installSignalHandlers(daemon: Daemon, logger: Logger): () => void {
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      logger.info(
        { signal: sig },
        'draining; send the signal again to exit now (runners are adopted by the next start)',
      );
      void daemon.shutdown();
      return;
    }
    logger.warn({ signal: sig }, 'forced exit: runners keep running and are adopted by the next start');
    daemon.abort();
    // Give pino a tick to flush the line above.
    setImmediate(() => process.exit(130));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
