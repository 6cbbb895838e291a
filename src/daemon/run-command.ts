import { ConfigError, type ConfigFlags, loadConfig } from '../config/index.js';
import type { RunnerConfig } from '../config/types.js';
import { createLogger, type Logger } from '../log.js';
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
  const daemon = await startDaemon(config, { logger });
  const stop = installSignalHandlers(daemon, logger);
  try {
    await daemon.done;
    await daemon.shutdown();
  } finally {
    stop();
  }
  return 0;
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
