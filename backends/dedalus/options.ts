import type { Dispatcher } from 'undici';
import type { Clock } from '../../src/kernel/clock.js';
import { Secret } from '../../src/secret.js';
import type { DedalusClient, RetryPolicy } from './api/index.js';
import type { DedalusConfig } from './config.js';
import { DedalusBackendError } from './errors.js';

/** How long each step may take and how often we look. Defaults suit the real API; tests shrink them. */
export interface DedalusTiming {
  /** Phase and short-execution polling: first wait and cap (ms). */
  pollInitialMs: number;
  pollMaxMs: number;
  /** Polling of a runner's execution while it runs; the cap bounds how late we see a job end. */
  watchInitialMs: number;
  watchMaxMs: number;
  /** Cold create until running ([unknown] in the docs, so generous). */
  createTimeoutMs: number;
  wakeTimeoutMs: number;
  sleepTimeoutMs: number;
  deleteTimeoutMs: number;
  provisionTimeoutMs: number;
  scrubTimeoutMs: number;
  /** From execution create until the runner process runs. */
  onlineTimeoutMs: number;
  /** Pool convergence interval (it is also kicked after every claim and release). */
  maintenanceIntervalMs: number;
  /** Per-request headers/body timeout. */
  requestTimeoutMs: number;
  /**
   * Wait before a refused or failed sleep is sent again when the answer gives no hint (a hold-window
   * refusal without one waits the published window instead).
   */
  sleepRetryMs: number;
  /**
   * At shutdown a machine still in its sleep hold window gets an autosleep of the rest of the window
   * plus this margin, so the platform puts it to sleep itself.
   */
  handOverMarginMs: number;
}

export const DEFAULT_TIMING: Readonly<DedalusTiming> = Object.freeze({
  pollInitialMs: 200,
  pollMaxMs: 2_000,
  watchInitialMs: 500,
  watchMaxMs: 3_000,
  createTimeoutMs: 10 * 60_000,
  wakeTimeoutMs: 2 * 60_000,
  sleepTimeoutMs: 2 * 60_000,
  deleteTimeoutMs: 5 * 60_000,
  provisionTimeoutMs: 30 * 60_000,
  scrubTimeoutMs: 2 * 60_000,
  onlineTimeoutMs: 5 * 60_000,
  maintenanceIntervalMs: 30_000,
  requestTimeoutMs: 30_000,
  sleepRetryMs: 15_000,
  handOverMarginMs: 60_000,
});

export interface DedalusBackendOptions {
  dedalus: DedalusConfig;
  /** undici dispatcher for the API (proxy, custom CA, test agent). */
  dispatcher?: Dispatcher;
  /** A ready client instead of one built from `dedalus` (tests, or a shared one). */
  client?: DedalusClient;
  timing?: Partial<DedalusTiming>;
  retry?: Partial<RetryPolicy>;
  /** Clock for the tier schedule and ages. */
  now?: () => Date;
  /** Clock for the sleep hold window's timer and the figures (default: the system clock). */
  clock?: Clock;
  /** Environment to read DEDALUS_API_KEY from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A plain absolute path: it is put inside single quotes in shell commands (scripts.ts). */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** Checks the resolved config where it enters the backend, naming the key at fault. */
export function checkConfig(cfg: DedalusConfig): void {
  const fail = (key: string, what: string, got: unknown) => {
    throw new DedalusBackendError(
      'DEDALUS_CONFIG',
      `dedalus.${key}: expected ${what}, got ${JSON.stringify(got)}`,
    );
  };
  if (!(cfg.vcpu > 0) || !Number.isInteger(cfg.vcpu * 4))
    fail('vcpu', 'a positive multiple of 0.25', cfg.vcpu);
  if (!Number.isInteger(cfg.memoryMib) || cfg.memoryMib <= 0)
    fail('memory-mib', 'a positive integer', cfg.memoryMib);
  if (!Number.isInteger(cfg.storageGib) || cfg.storageGib <= 0)
    fail('storage-gib', 'a positive integer', cfg.storageGib);
  if (!Number.isInteger(cfg.max) || cfg.max < 1) fail('max', 'an integer ≥ 1', cfg.max);
  for (const key of ['warm', 'sleeping', 'recycleAfterJobs'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 0) fail(kebab(key), 'an integer ≥ 0', cfg[key]);
  }
  if (!(cfg.jobTimeout > 0)) fail('job-timeout', 'a duration > 0', cfg.jobTimeout);
  if (!(cfg.recycleAfter >= 0)) fail('recycle-after', 'a duration ≥ 0', cfg.recycleAfter);
  if (!SAFE_PATH.test(cfg.runnerDir) || cfg.runnerDir.includes('..') || cfg.runnerDir === '/') {
    fail('runner-dir', 'an absolute path of letters, digits, ".", "_", "-" and "/"', cfg.runnerDir);
  }
}

/** The key from config, else DEDALUS_API_KEY; wrapped in a Secret so log scrubbing knows it. */
export function resolveApiKey(cfg: DedalusConfig, env: NodeJS.ProcessEnv): Secret {
  if (cfg.apiKey && !cfg.apiKey.empty) return cfg.apiKey;
  const fromEnv = env.DEDALUS_API_KEY;
  if (fromEnv) return new Secret(fromEnv);
  throw new DedalusBackendError('DEDALUS_CONFIG', 'dedalus.api-key is not set and DEDALUS_API_KEY is empty');
}

/**
 * Autosleep for our machines: longer than any execution we start, so it can never freeze a provision
 * or a job even if a running execution does not count as activity (the docs count a successful
 * execution, a terminal or SSH session and a preview hit, and do not say whether a running execution
 * counts; backends/dedalus/README.md, "What the API leaves open"). We sleep
 * machines ourselves; autosleep is only the safety net for a daemon that died.
 */
export function autosleepFor(cfg: DedalusConfig, timing: DedalusTiming): string {
  const longest = Math.max(cfg.jobTimeout, timing.provisionTimeoutMs);
  return String(Math.ceil((longest + 10 * 60_000) / 1000));
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
