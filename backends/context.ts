import { join } from 'node:path';
import type { Logger } from '../src/log.js';
import type { RunnerNetwork } from '../src/net/runner-network.js';
import type { NetworkAccess } from '../src/net/types.js';
import type { BackendContext } from './types.js';

/**
 * The one place a scale set's backend context is made. The daemon and doctor both use it, so doctor
 * sees exactly the owner and state directory the daemon's backends used, and nothing else.
 */
export function backendContext(
  config: { stateDir: string },
  set: { name: string; backend: string },
  instanceId: string,
  logger: Logger,
  network?: NetworkAccess,
  runnerNetwork?: RunnerNetwork,
): BackendContext {
  return {
    owner: { instanceId, scaleSet: set.name },
    logger,
    stateDir: join(config.stateDir, 'backends', set.backend),
    ...(network ? { network } : {}),
    ...(runnerNetwork ? { runnerNetwork } : {}),
  };
}
