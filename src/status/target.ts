import { ConfigError } from '../config/errors.js';
import { envVarName } from '../config/keys.js';
import { loadDaemonConfig } from '../config/load.js';
import type { StatusTarget } from './client.js';

export interface TargetOptions {
  /** --url: the health server, skipping the config. */
  url?: string;
  /** --config; without it the config loader's own search (RUNNER_CONFIG, ./config.toml, /etc/runner). */
  config?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The health server named by the config: the same host, port and token the daemon reads, through the
 * same loader, so `runner status` looks where the daemon listens. Only the daemon-wide part is resolved,
 * so a shell without the daemon's GitHub token can still ask.
 */
export async function resolveStatusTarget(opts: TargetOptions): Promise<StatusTarget> {
  if (opts.url) {
    const token = opts.env[envVarName('health-token')];
    return { baseUrl: opts.url.replace(/\/+$/, ''), source: '--url', ...(token ? { token } : {}) };
  }
  let config: Awaited<ReturnType<typeof loadDaemonConfig>>;
  try {
    // Only the daemon-wide keys are resolved: the scale sets' secrets (RUNNER_TOKEN…) are not needed here.
    config = await loadDaemonConfig({ ...(opts.config ? { file: opts.config } : {}), env: opts.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new Error(
      `${err.message}\nrunner status and runner hosts read health-host, health-port and health-token from this config (a health-token "env:VAR" needs that variable), or pass --url http://HOST:PORT`,
      { cause: err },
    );
  }
  const source = config.file || 'defaults';
  if (config.healthPort === 0) {
    throw new Error(
      `the health server is off (health-port = 0 in ${source}); set a port to use runner status and runner hosts`,
    );
  }
  const token = config.healthToken?.reveal();
  return {
    baseUrl: `http://${connectHost(config.healthHost)}:${config.healthPort}`,
    source,
    ...(token ? { token } : {}),
  };
}

/** A wildcard bind address is not one to connect to: use the loopback of the same family. */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
