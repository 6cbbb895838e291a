import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { delay } from '../../src/kernel/abort.js';
import type { Logger } from '../../src/log.js';
import { Backoff, type BackoffOptions } from '../../src/util/backoff.js';
import type { OwnedRunner, Owner, RunnerExitedEvent } from '../types.js';
import { answerDeadline, callSignal } from './call.js';
import { describe } from './errors.js';
import { ExitTracker, OOM_REASON } from './exit-tracker.js';
import { jsonLines } from './json-lines.js';
import { ownerLabelFilters } from './ownership.js';

export interface ExitWatchDeps {
  docker: Docker;
  owner: Owner;
  logger: Logger;
  listOwned(signal: AbortSignal): Promise<OwnedRunner[]>;
  backoff?: BackoffOptions;
  /** Told when the stream ends or fails: the engine may have gone (its health monitor looks). */
  onBreak?: () => void;
  /** True while the engine is known not to answer: reconnect failures are then logged at debug only. */
  quiet?: () => boolean;
}

/** A connection that lived this long was healthy: the next break starts the backoff from scratch. */
const HEALTHY_MS = 10_000;

/**
 * Exits of this owner's runners, pushed by the engine, until `signal` aborts.
 *
 * The stream is opened before the listing is taken, so an exit falls into the listing, the stream, or
 * both (the tracker drops the duplicate), never into a gap. When the stream breaks (engine restart,
 * proxy timeout) it is reopened with backoff and the listing is taken again: exits that happened while
 * disconnected, including runners removed meanwhile, are reported then. Exited runners that already
 * exist when the watch starts are reported too, so a subscriber never has to list first.
 */
export async function* watchExits(
  deps: ExitWatchDeps,
  signal: AbortSignal,
): AsyncGenerator<RunnerExitedEvent> {
  const tracker = new ExitTracker(deps.owner);
  const backoff = new Backoff(deps.backoff ?? { initial: 250, max: 10_000, jitter: 0.2 });
  while (!signal.aborted) {
    let stream: Readable | undefined;
    let connectedAt: number | undefined;
    try {
      stream = await openEvents(deps.docker, deps.owner, signal);
      connectedAt = Date.now();
      for (const e of tracker.reconcile(await deps.listOwned(signal))) {
        yield await withOomReason(deps.docker, e, signal);
      }
      for await (const msg of jsonLines(stream)) {
        const e = tracker.onEvent(msg);
        if (e) yield await withOomReason(deps.docker, e, signal);
      }
      if (signal.aborted) return;
      deps.logger[deps.quiet?.() ? 'debug' : 'warn']('docker event stream ended; reconnecting');
      deps.onBreak?.();
    } catch (err) {
      if (signal.aborted) return;
      deps.logger[deps.quiet?.() ? 'debug' : 'warn'](
        { err: describe(err) },
        'docker event stream failed; reconnecting',
      );
      deps.onBreak?.();
    } finally {
      stream?.destroy();
    }
    if (connectedAt !== undefined && Date.now() - connectedAt >= HEALTHY_MS) backoff.reset();
    try {
      await delay(backoff.next(), signal);
    } catch {
      return;
    }
  }
}

/**
 * An exit by SIGKILL (137) without the engine's `oom` event may still be an out-of-memory kill: the
 * event is missed when the container died before the stream connected (the exit then comes from the
 * listing) and is not guaranteed to precede `die`. The container's state says it for certain, so it is
 * asked; a failed inspect leaves the event as it is.
 */
async function withOomReason(
  docker: Docker,
  e: RunnerExitedEvent,
  signal: AbortSignal,
): Promise<RunnerExitedEvent> {
  if (e.reason !== undefined || e.exitCode !== 137) return e;
  try {
    const info = await docker.getContainer(e.resourceId).inspect({ abortSignal: callSignal(signal) });
    return info.State?.OOMKilled ? { ...e, reason: OOM_REASON } : e;
  } catch {
    return e;
  }
}

/** The engine sends the stream's headers at once; one that does not is not answering. */
async function openEvents(docker: Docker, owner: Owner, signal: AbortSignal): Promise<Readable> {
  const opening = answerDeadline(signal);
  try {
    const stream = await docker.getEvents({
      filters: {
        type: ['container'],
        event: ['start', 'oom', 'die', 'destroy'],
        label: ownerLabelFilters(owner),
      },
      abortSignal: opening.signal,
    });
    return stream as Readable;
  } finally {
    opening.answered();
  }
}
