import { compileWindow, type ScheduleWindow, windowContains } from '../../src/schema/schedule.js';
import type { DedalusConfig, DedalusSchedule } from './config.js';
import { DedalusBackendError } from './errors.js';

export interface TierTargets {
  /** Machines kept awake for idle runners (the scaler is asked to keep this many idle runners). */
  warm: number;
  /** Provisioned machines kept asleep, caches hot, ready to wake. */
  sleeping: number;
}

interface Window extends ScheduleWindow {
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
    const w = this.#windows.find((x) => windowContains(x, now));
    const warm = Math.min(w?.warm ?? this.cfg.warm, this.cfg.max);
    const sleeping = Math.min(w?.sleeping ?? this.cfg.sleeping, this.cfg.max - warm);
    return { warm: Math.max(0, warm), sleeping: Math.max(0, sleeping) };
  }
}

function compile(w: DedalusSchedule, i: number): Window {
  const window = compileWindow(w.days, w.hours, w.timezone);
  if (!window) {
    throw new DedalusBackendError(
      'DEDALUS_CONFIG',
      `dedalus.schedule[${i}]: expected days like "mon-fri" and hours like "08:00-18:00", got ${JSON.stringify(w.days)} ${JSON.stringify(w.hours)}`,
    );
  }
  return { ...window, sleeping: w.sleeping, warm: w.warm };
}
