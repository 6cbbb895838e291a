import { int, RUNNERS_MAX, required, table, tables } from '../schema/fields.js';
import { compileWindow, type WarmWindow } from '../schema/schedule.js';

export type { WarmWindow };

import { windowKeys } from '../schema/window-keys.js';

/**
 * Warm runners that follow the working day, for every backend: `[[schedule]]` windows (days, hours,
 * time zone) each with the `min-runners` that holds while it is open — mornings start warm, nights
 * cost nothing. In a scale set (`[[scaleset.schedule]]`) and in a job shape (`[[shape.schedule]]`,
 * `[[scaleset.shape.schedule]]`); a shape without its own takes its set's. The first open window wins;
 * outside them `min-runners` holds. Dedalus' `[[dedalus.schedule]]` (its warm and sleeping machines)
 * uses the same windows, read by the same evaluator (src/schema/schedule.ts).
 */
export const warmWindowTable = table('[[scaleset.schedule]]', {
  ...windowKeys(),
  'min-runners': required(
    int(0, RUNNERS_MAX),
    'Warm runners while the window is open, instead of min-runners.',
  ),
});

export const warmScheduleKey = tables(
  '[[scaleset.schedule]]',
  warmWindowTable,
  'Time windows with another min-runners ([[schedule]] at the top level); the first open one wins.',
);

type WindowSettings = { days: string; hours: string; timezone?: string | undefined; 'min-runners': number };

/** The windows as the scaler reads them (the config checked their syntax already). */
export function compileWarmSchedule(list: readonly WindowSettings[]): WarmWindow[] {
  const out: WarmWindow[] = [];
  for (const w of list) {
    const window = compileWindow(w.days, w.hours, w.timezone);
    if (window) out.push({ ...window, minRunners: w['min-runners'] });
  }
  return out;
}
