import { formatSeconds } from '../schema/units.js';
import type { DaemonStatus, ScaleSetStatus } from './status-types.js';

/**
 * A listener holds each long poll for up to 50 s; with handling the batch and a slow response on top,
 * 95 s without a successful poll means it is not listening any more.
 */
export const DEFAULT_STALE_AFTER_MS = 95_000;

export interface ScaleSetHealth {
  name: string;
  phase: ScaleSetStatus['phase'];
  healthy: boolean;
  reason?: string;
  lastPollAt?: string;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  scaleSets: ScaleSetHealth[];
}

/**
 * Health judged from evidence, not from the daemon's own `healthy` flag: a listener that silently
 * stopped polling still says "listening", but its `lastPollAt` ages, and that is what turns it red.
 */
export function judgeScaleSet(ss: ScaleSetStatus, now: number, staleAfterMs: number): ScaleSetHealth {
  const base = { name: ss.name, phase: ss.phase, lastPollAt: ss.lastPollAt };
  const lastError = ss.reason ? `; last error: ${ss.reason}` : '';
  if (ss.phase === 'stopped') return { ...base, healthy: false, reason: `listener stopped${lastError}` };
  if (ss.backendStall) {
    // A listener can poll happily while no runner can start: the stall is what needs fixing.
    const since = Date.parse(ss.backendStall.since);
    const stallError = ss.backendStall.lastError ? `; last error: ${ss.backendStall.lastError}` : '';
    return {
      ...base,
      healthy: false,
      reason: `backend ${ss.backend} not answering for ${formatSeconds(now - since)}${stallError}`,
    };
  }
  if (ss.stateFile) {
    const since = Date.parse(ss.stateFile.since);
    return {
      ...base,
      healthy: false,
      reason: `state file not writable for ${formatSeconds(now - since)} (${ss.stateFile.error}): no new runner starts until it is`,
    };
  }
  const polled = ss.lastPollAt ? Date.parse(ss.lastPollAt) : Number.NaN;
  if (!Number.isFinite(polled)) {
    return { ...base, healthy: false, reason: `no successful poll yet (${ss.phase})${lastError}` };
  }
  const age = now - polled;
  if (age > staleAfterMs) {
    const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
    return {
      ...base,
      healthy: false,
      reason: `no successful poll for ${secs(age)} (limit ${secs(staleAfterMs)})${lastError}`,
    };
  }
  return { ...base, healthy: true };
}

export function checkHealth(status: DaemonStatus, now: number, staleAfterMs: number): HealthReport {
  const scaleSets = status.scaleSets.map((ss) => judgeScaleSet(ss, now, staleAfterMs));
  // No scale sets is a daemon doing nothing: not something a probe should call healthy.
  const ok = scaleSets.length > 0 && scaleSets.every((s) => s.healthy);
  return { status: ok ? 'ok' : 'unhealthy', scaleSets };
}

/** The snapshot with `healthy`/`reason` replaced by the judged values, so every reader sees one truth. */
export function withJudgedHealth(status: DaemonStatus, now: number, staleAfterMs: number): DaemonStatus {
  const scaleSets = status.scaleSets.map((ss) => {
    const h = judgeScaleSet(ss, now, staleAfterMs);
    return { ...ss, healthy: h.healthy, reason: h.healthy ? ss.reason : h.reason };
  });
  return { ...status, healthy: scaleSets.length > 0 && scaleSets.every((s) => s.healthy), scaleSets };
}

export interface ReadinessReport {
  status: 'ready' | 'not ready';
  scaleSets: { name: string; phase: ScaleSetStatus['phase']; ready: boolean }[];
}

/**
 * Ready once every scale set has been listening at least once. `listened` remembers the sets seen
 * listening (a poll that succeeded proves it too), so a later reconnect does not undo readiness:
 * that is /healthz's business.
 */
export function checkReadiness(status: DaemonStatus, listened: Set<string>): ReadinessReport {
  for (const ss of status.scaleSets) {
    if (ss.phase === 'listening' || ss.phase === 'draining' || ss.lastPollAt) listened.add(ss.name);
  }
  const scaleSets = status.scaleSets.map((ss) => ({
    name: ss.name,
    phase: ss.phase,
    ready: status.ready || listened.has(ss.name),
  }));
  const ok = scaleSets.length > 0 && scaleSets.every((s) => s.ready);
  return { status: ok ? 'ready' : 'not ready', scaleSets };
}
