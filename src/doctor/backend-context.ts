import { join } from 'node:path';
import type { BackendContext } from '../../backends/types.js';
import type { RunnerConfig, ScaleSetConfig } from '../config/types.js';
import type { Logger } from '../log.js';

/**
 * The context the daemon gives a scale set's backend (src/daemon/daemon.ts builds the same): the same
 * owner and state directory, so doctor sees exactly the resources that daemon made and nothing else.
 */
export function backendContext(
  config: RunnerConfig,
  set: ScaleSetConfig,
  instanceId: string,
  logger: Logger,
): BackendContext {
  return {
    owner: { instanceId, scaleSet: set.name },
    logger,
    stateDir: join(config.stateDir, 'backends', set.backend),
  };
}
