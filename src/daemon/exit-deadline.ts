import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../log.js';

/**
 * After the first SIGTERM/SIGINT the process ends within drain-timeout plus this margin, whatever it
 * still waits for: the drain itself stops at drain-timeout, and what follows (listener and session,
 * backend close, scale set delete) takes seconds. Below the systemd unit's stop timeout (drain + 30 s,
 * src/service/plan.ts), so the daemon exits on its own, saying why, rather than being SIGKILLed.
 */
export const SHUTDOWN_MARGIN_MS = 20_000;
/** After a clean shutdown, how long anything still open may keep the process alive. */
export const LINGER_MS = 2_000;

export interface ExitDeadlineOptions {
  /** A timer that never keeps the process alive itself (systemClock's). */
  clock: Clock;
  logger: Logger;
  exit: (code: number) => void;
  /** What the process holds open, by kind ("TCPSocketWrap": 2): what keeps it alive. */
  openHandles?: () => Record<string, number>;
}

/**
 * Ends the process `ms` from now with `code` if it is still running then, logging `message` with what
 * it was still doing (`pending()`) and what it held open. The timer does not keep the process alive: a
 * process that finishes on time exits as it would have. Returns the cancel function.
 */
export function exitDeadline(
  ms: number,
  code: number,
  message: string,
  pending: () => Record<string, unknown>,
  opts: ExitDeadlineOptions,
): () => void {
  return opts.clock.setTimer(() => {
    let still: Record<string, unknown>;
    try {
      still = pending();
    } catch (err) {
      still = { pendingUnknown: err instanceof Error ? err.message : String(err) };
    }
    opts.logger[code === 0 ? 'warn' : 'error'](
      { ...still, openHandles: (opts.openHandles ?? openHandles)(), exitCode: code },
      message,
    );
    opts.exit(code);
  }, ms);
}

/** Node's view of what keeps the event loop alive, counted by kind. */
export function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
