import type { Dispatcher } from 'undici';
import type { ScaleSetConfig } from '../config/types.js';
import { credentialsFromConfig } from '../github/credentials.js';
import { ActionsClient, type TransportOptions } from '../github/index.js';

/**
 * A protocol client for one scale set's URL and credentials, for one-off commands (validate, doctor):
 * few retries, because a person is waiting and the command reports what failed.
 */
export function actionsClientFor(
  set: ScaleSetConfig,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  /** The scale set's network pool (proxy, CA): see src/net/networks.ts. */
  dispatcher: Dispatcher | undefined,
): ActionsClient {
  const transport: TransportOptions = {
    retryMax: 1,
    retryWaitMin: 200,
    retryWaitMax: 1_000,
    timeoutMs,
    dispatcher,
  };
  return new ActionsClient({
    configUrl: set.url,
    auth: credentialsFromConfig(set.auth),
    env,
    ...transport,
  });
}
