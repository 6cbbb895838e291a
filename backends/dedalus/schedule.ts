import { parseDays, parseHours } from '../../src/schema/schedule.js';
import type { DedalusConfig, DedalusSchedule } from './config.js';
import { DedalusBackendError } from './errors.js';

export interface TierTargets {
  /** Machines kept awake for idle runners (the scaler is asked to keep this many idle runners). */
  warm: number;
  /** Provisioned machines kept asleep, caches hot, ready to wake. */
  sleeping: number;
}

interface Window {
  days: Set<number>;
  start: number;
  end: number;
  sleeping: number | undefined;
  warm: number | undefined;
}

/**
 * Tier sizes that follow `[[dedalus.schedule]]` windows in the daemon's local time: the first window
 * that contains `now` overrides the base sizes it names. Both tiers are capped by `max`, warm first.
 */
export class TierSchedule {
  readonly #windows: Window[];

  constructor(private readonly cfg: Pick<DedalusConfig, 'warm' | 'sleeping' | 'max' | 'schedule'>) {
    this.#windows = cfg.schedule.map((w, i) => compile(w, i));
  }

  at(now: Date): TierTargets {
    const w = this.#windows.find((x) => contains(x, now));
    const warm = Math.min(w?.warm ?? this.cfg.warm, this.cfg.max);
    const sleeping = Math.min(w?.sleeping ?? this.cfg.sleeping, this.cfg.max - warm);
    return { warm: Math.max(0, warm), sleeping: Math.max(0, sleeping) };
  }
}

function compile(w: DedalusSchedule, i: number): Window {
  const days = parseDays(w.days);
  const hours = parseHours(w.hours);
  if (!days || !hours) {
    throw new DedalusBackendError(
      'DEDALUS_CONFIG',
      `dedalus.schedule[${i}]: expected days like "mon-fri" and hours like "08:00-18:00", got ${JSON.stringify(w.days)} ${JSON.stringify(w.hours)}`,
    );
  }
  return { days, ...hours, sleeping: w.sleeping, warm: w.warm };
}

function contains(w: Window, now: Date): boolean {
  const minute = now.getHours() * 60 + now.getMinutes();
  const today = now.getDay();
  if (w.start < w.end) return w.days.has(today) && minute >= w.start && minute < w.end;
  // A window that wraps midnight belongs to the day it opened on.
  return (w.days.has(today) && minute >= w.start) || (w.days.has((today + 6) % 7) && minute < w.end);
}
