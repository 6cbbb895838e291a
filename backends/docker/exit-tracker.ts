import { LABEL_RUNNER_NAME } from '../../src/labels.js';
import type { OwnedRunner, Owner, RunnerExitedEvent } from '../types.js';
import { hasOwnerLabels } from './ownership.js';

/** Reason given for a runner that vanished while no event stream was connected. */
export const GONE_REASON = 'container removed while the event stream was down';
/** Reason given for a runner the kernel killed for exceeding its memory limit (the engine's `oom` event). */
export const OOM_REASON = 'OOMKilled';

/**
 * Turns Docker container events and container listings into exactly one `exited` event per runner.
 * Events give exits as they happen; a listing, taken each time the stream (re)connects, gives the exits
 * that happened while no stream was connected. Both can report the same exit, so exits already
 * reported are remembered by container id until the container is destroyed.
 */
export class ExitTracker {
  /** Running (or starting) runner containers: id → runner name. */
  #live = new Map<string, string>();
  #reported = new Set<string>();
  /** Containers the engine reported out of memory; their `die` follows. */
  #oom = new Set<string>();

  constructor(private readonly owner: Owner) {}

  /** The exits a fresh listing reveals; afterwards the listing is the new picture of what is live. */
  reconcile(owned: OwnedRunner[], at = new Date()): RunnerExitedEvent[] {
    const out: RunnerExitedEvent[] = [];
    const present = new Set(owned.map((r) => r.resourceId));
    for (const [id, name] of this.#live) {
      if (!present.has(id) && !this.#reported.has(id)) {
        out.push({ type: 'exited', name, resourceId: id, reason: GONE_REASON, at });
      }
    }
    this.#live.clear();
    for (const id of this.#reported) if (!present.has(id)) this.#reported.delete(id);
    for (const r of owned) {
      if (r.state === 'exited') {
        if (this.#reported.has(r.resourceId)) continue;
        this.#reported.add(r.resourceId);
        const e: RunnerExitedEvent = { type: 'exited', name: r.name, resourceId: r.resourceId, at };
        if (r.exitCode !== undefined) e.exitCode = r.exitCode;
        out.push(e);
      } else {
        this.#live.set(r.resourceId, r.name);
      }
    }
    return out;
  }

  /** One decoded engine event; returns the exit it announces, if any. */
  onEvent(msg: Record<string, unknown>): RunnerExitedEvent | undefined {
    const ev = parseContainerEvent(msg);
    if (!ev || !hasOwnerLabels(ev.attributes, this.owner)) return undefined;
    const name = ev.attributes[LABEL_RUNNER_NAME];
    // Only runner containers (named after their runner), not other containers carrying our labels.
    if (name === undefined || ev.attributes.name !== name) return undefined;
    switch (ev.action) {
      case 'start':
        // A start buffered in the stream may be older than the listing that already reported this
        // container's exit; it must not make that exit reportable twice. Our containers never restart.
        if (!this.#reported.has(ev.id)) this.#live.set(ev.id, name);
        return undefined;
      case 'oom':
        this.#oom.add(ev.id);
        return undefined;
      case 'destroy':
        this.#live.delete(ev.id);
        this.#reported.delete(ev.id);
        this.#oom.delete(ev.id);
        return undefined;
      case 'die': {
        this.#live.delete(ev.id);
        if (this.#reported.has(ev.id)) return undefined;
        this.#reported.add(ev.id);
        const e: RunnerExitedEvent = { type: 'exited', name, resourceId: ev.id, at: ev.at };
        const code = Number.parseInt(ev.attributes.exitCode ?? '', 10);
        if (Number.isSafeInteger(code)) e.exitCode = code;
        if (this.#oom.delete(ev.id)) e.reason = OOM_REASON;
        return e;
      }
      default:
        return undefined;
    }
  }
}

interface ContainerEvent {
  action: string;
  id: string;
  attributes: Record<string, string>;
  at: Date;
}

/** The engine's event JSON, checked field by field rather than trusted. */
export function parseContainerEvent(msg: Record<string, unknown>): ContainerEvent | undefined {
  if (msg.Type !== 'container' || typeof msg.Action !== 'string') return undefined;
  const actor = msg.Actor as { ID?: unknown; Attributes?: unknown } | undefined;
  if (!actor || typeof actor.ID !== 'string') return undefined;
  const attributes: Record<string, string> = {};
  if (actor.Attributes && typeof actor.Attributes === 'object') {
    for (const [k, v] of Object.entries(actor.Attributes)) if (typeof v === 'string') attributes[k] = v;
  }
  const nanos = typeof msg.timeNano === 'number' ? msg.timeNano : undefined;
  const secs = typeof msg.time === 'number' ? msg.time : undefined;
  const at =
    nanos !== undefined ? new Date(nanos / 1e6) : secs !== undefined ? new Date(secs * 1000) : new Date();
  // "exec_start: sh" and similar carry a suffix after a colon; the verb is what matters.
  return { action: msg.Action.split(':')[0] ?? '', id: actor.ID, attributes, at };
}
