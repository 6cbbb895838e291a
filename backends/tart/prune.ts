import type { Logger } from '../../src/log.js';
import { every } from '../../src/util/every.js';
import { type TartCli, TIMEOUTS } from './cli.js';
import type { TartConfig } from './config.js';

const DAY_MS = 86_400_000;
const GIB = 1024 ** 3;

/**
 * `tart prune --entries caches …`: OCI and IPSW caches only, never VMs. tart takes whole days and
 * whole GiB; a sub-day age rounds up to 1 day, because `--older-than 0` would wipe the whole cache.
 * Undefined when nothing is configured (tart refuses a prune without a criterion).
 */
export function pruneArgs(cfg: Pick<TartConfig, 'pruneMaxAge' | 'pruneSpaceBudget'>): string[] | undefined {
  const args = ['prune', '--entries', 'caches'];
  if (cfg.pruneMaxAge > 0)
    args.push('--older-than', String(Math.max(1, Math.floor(cfg.pruneMaxAge / DAY_MS))));
  if (cfg.pruneSpaceBudget > 0) {
    args.push('--space-budget', String(Math.max(1, Math.floor(cfg.pruneSpaceBudget / GIB))));
  }
  return args.length > 3 ? args : undefined;
}

interface Pruner {
  refs: number;
  stop: AbortController;
}

/** One pruner per TART_HOME, however many scale sets share it; the first registration's config wins. */
const pruners = new Map<string, Pruner>();

/** Starts (or joins) the cache pruner of `cli.home`; returns the release function. */
export function schedulePrune(cli: TartCli, cfg: TartConfig, logger: Logger): () => void {
  const args = pruneArgs(cfg);
  if (cfg.pruneInterval <= 0 || !args) return () => {};
  let pruner = pruners.get(cli.home);
  if (!pruner) {
    const stop = new AbortController();
    pruner = { refs: 0, stop };
    pruners.set(cli.home, pruner);
    every(
      cfg.pruneInterval,
      async () => {
        await cli.call(args, { signal: stop.signal, timeout: TIMEOUTS.prune });
        logger.debug({ home: cli.home }, 'pruned Tart caches');
      },
      { signal: stop.signal, onError: (err) => logger.warn({ err, home: cli.home }, 'tart prune failed') },
    );
  }
  const held = pruner;
  held.refs++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--held.refs > 0) return;
    held.stop.abort();
    pruners.delete(cli.home);
  };
}
