import { backendChecks } from '../../backends/index.js';
import type { CheckResult } from '../checks/result.js';
import type { ScaleSetConfig } from '../config/types.js';
import { Networks } from '../net/networks.js';
import { runnerNetwork, unreachableProxyWarning } from '../net/runner-network.js';
import { INSECURE_TLS_WARNING } from '../net/tls.js';
import { type ConfigSource, checkConfig } from './config-check.js';
import { githubChecks } from './github.js';
import { hostChecks } from './host.js';
import { shapeRows } from './shapes.js';
import type { ValidationReport } from './types.js';

export interface ValidateOptions extends ConfigSource {
  /** Per check (default 10 s): one slow service cannot stall the rest. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/**
 * Everything `runner run` needs, checked without side effects (no pulls, no scale sets, no sessions)
 * and without stopping at the first problem. Independent checks run concurrently; the report keeps
 * a fixed order: config, then each scale set, then the daemon's host checks.
 * `runner run --dry-run` calls this with its own flags.
 */
export async function validateConfig(opts: ValidateOptions): Promise<ValidationReport> {
  const loaded = await checkConfig(opts);
  if (!loaded.ok) return { ok: false, file: loaded.file, checks: loaded.checks };
  const { config } = loaded;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  // The pools the daemon would use, one per network setting, so each check goes out as run's would.
  const networks = new Networks(opts.env);
  try {
    const perSet = config.scaleSets.map(async (set) => {
      const network = networks.access(set.network);
      const [github, backend] = await Promise.all([
        githubChecks(set, timeoutMs, opts.env, opts.signal, network),
        // The backend's own checks (backends/<kind>/validate.ts), loaded only for backends in use.
        backendChecks(set, { timeoutMs, env: opts.env, signal: opts.signal, network }),
      ]);
      return [...shapeRows(set), ...insecureTls(set), ...github, ...backend, ...runnersNetwork(set)];
    });
    const host = hostChecks(config, timeoutMs, opts.signal);
    const checks = [loaded.check, ...(await Promise.all(perSet)).flat(), ...(await Promise.all(host))];
    return { ok: checks.every((c) => c.status !== 'fail'), file: config.file, checks };
  } finally {
    await networks.destroy();
  }
}

/** A warning, not a failure: the setting works, and a test setup may need it. */
function insecureTls(set: ScaleSetConfig): CheckResult[] {
  if (!set.network.insecureSkipTlsVerify) return [];
  return [
    {
      id: 'tls-verify',
      scaleSet: set.name,
      title: 'TLS certificates verified',
      status: 'warn',
      detail: INSECURE_TLS_WARNING,
    },
  ];
}

/**
 * What the scale set's runners get of its network (`runner-env`), said when there is something to
 * say: a proxy or a CA passed on, a choice other than the default, or a proxy runners cannot reach.
 */
function runnersNetwork(set: ScaleSetConfig): CheckResult[] {
  const runners = runnerNetwork(set.network, set.runnerEnv);
  const warning = unreachableProxyWarning(runners, set);
  if (!warning && runners.proxy.length === 0 && !runners.ca && set.runnerEnv === 'network') return [];
  return [
    {
      id: 'runner-network',
      scaleSet: set.name,
      title: 'runners reach the network the way the daemon does (runner-env)',
      status: warning ? 'warn' : 'ok',
      detail: warning ?? `runners get: ${runners.description}`,
    },
  ];
}
