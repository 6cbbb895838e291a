import { discardEvents, type EventSink, type ReconnectReason } from '../events.js';
import { isSessionConflict } from '../github/index.js';
import { delay, isAbortError } from '../kernel/abort.js';
import { type Logger, silentLogger } from '../log.js';
import { Backoff } from '../util/backoff.js';
import type { ListenerClient } from './types.js';

export interface ClosableSession extends ListenerClient {
  close(signal?: AbortSignal): Promise<void>;
}

export type ListenerPhase = 'starting' | 'listening' | 'reconnecting' | 'stopped';

export interface SuperviseOptions {
  scaleSet: string;
  openSession(signal: AbortSignal): Promise<ClosableSession>;
  /** Runs the long-poll loop on one session until it fails or `signal` aborts. */
  listen(session: ClosableSession, signal: AbortSignal): Promise<unknown>;
  signal: AbortSignal;
  logger?: Logger;
  /** Reconnects, and each message session deleted at GitHub (cleaned up, kind "session"). */
  emit?: EventSink;
  onPhase?(phase: ListenerPhase, reason?: string): void;
  /** Reconnect backoff; defaults: 1 s doubling to 60 s, ±20 % jitter. */
  backoff?: { initial: number; max: number; jitter?: number };
  /** A session that lived this long resets the backoff. */
  healthyAfterMs?: number;
  now?: () => number;
}

/**
 * Keeps one message session alive for a scale set: opens it, runs the listener, and on any failure
 * closes it and reconnects with capped exponential backoff and jitter.
 *
 * Unlike actions/scaleset (which returns on a 409 and relies on a supervisor restart), a session conflict
 * is retried here until the stale session expires: after a crash the old session lingers at GitHub for
 * a while, and a restart must not need a human.
 */
export async function superviseListener(opts: SuperviseOptions): Promise<void> {
  const log = opts.logger ?? silentLogger;
  const emit = opts.emit ?? discardEvents;
  const now = opts.now ?? Date.now;
  const reconnect = (reason: ReconnectReason, detail: string) =>
    emit({ type: 'listener-reconnect', scaleSet: opts.scaleSet, at: now(), reason, detail });
  const backoff = new Backoff({
    initial: opts.backoff?.initial ?? 1000,
    max: opts.backoff?.max ?? 60_000,
    jitter: opts.backoff?.jitter ?? 0.2,
  });
  const healthyAfter = opts.healthyAfterMs ?? 60_000;
  const { signal } = opts;

  while (!signal.aborted) {
    opts.onPhase?.(backoff.attempts === 0 ? 'starting' : 'reconnecting');
    let session: ClosableSession;
    try {
      session = await opts.openSession(signal);
    } catch (err) {
      if (signal.aborted) break;
      const conflict = isSessionConflict(err);
      const reason = conflict
        ? 'session conflict: a previous session of this scale set is still active; retrying until it expires'
        : `cannot open message session: ${errorText(err)}`;
      log.warn({ err: conflict ? undefined : err }, reason);
      reconnect(conflict ? 'session-conflict' : 'session-error', reason);
      opts.onPhase?.('reconnecting', reason);
      if (!(await wait(backoff.next(), signal))) break;
      continue;
    }

    const openedAt = now();
    opts.onPhase?.('listening');
    try {
      await opts.listen(session, signal);
    } catch (err) {
      if (!signal.aborted || !isAbortError(err)) {
        if (!signal.aborted) {
          const reason = `listener stopped: ${errorText(err)}`;
          log.warn({ err }, `${reason}; reconnecting`);
          reconnect('listener-error', reason);
          opts.onPhase?.('reconnecting', reason);
        }
      }
    } finally {
      if (await closeQuietly(session, log))
        emit({ type: 'cleaned-up', scaleSet: opts.scaleSet, at: now(), kind: 'session', count: 1 });
    }
    if (signal.aborted) break;
    if (now() - openedAt >= healthyAfter) backoff.reset();
    if (!(await wait(backoff.next(), signal))) break;
  }
  opts.onPhase?.('stopped');
}

/** Deletes the session at GitHub; false when that failed (it expires there on its own). */
async function closeQuietly(session: ClosableSession, log: Logger): Promise<boolean> {
  try {
    // Never the caller's signal: shutdown is exactly when the session must be deleted.
    await session.close(AbortSignal.timeout(15_000));
    log.debug({ sessionId: session.session.sessionId }, 'session deleted');
    return true;
  } catch (err) {
    log.warn({ err }, 'failed to delete message session; it expires at GitHub on its own');
    return false;
  }
}

async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, signal);
    return true;
  } catch {
    return false;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
