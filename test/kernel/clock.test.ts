import { describe, expect, it } from 'vitest';
import { Alarm, wakeAt } from '../../src/kernel/clock.js';
import { ManualClock } from '../support/manual-clock.js';

describe('wakeAt', () => {
  it('runs once the clock reads the moment, re-arming when its timer fires early', () => {
    const clock = new ManualClock(1000, { earlyBy: 1 });
    const fired: number[] = [];
    wakeAt(clock, 1010.4, () => fired.push(clock.now()));
    clock.advance(9); // the timer fires at 1009 (early): nothing runs, a new timer is armed
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(1);
    clock.advance(5);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(1010.4);
  });

  it('runs at once for a moment already past, and not at all once cancelled', () => {
    const clock = new ManualClock(1000);
    let n = 0;
    wakeAt(clock, 999, () => n++);
    expect(n).toBe(1);
    const cancel = wakeAt(clock, 1005, () => n++);
    cancel();
    clock.advance(100);
    expect(n).toBe(1);
    expect(clock.pending).toBe(0);
  });
});

describe('Alarm', () => {
  it('keeps the earliest pending moment and fires once', () => {
    const clock = new ManualClock(0, { earlyBy: 1 });
    let n = 0;
    const alarm = new Alarm(clock, () => n++);
    alarm.at(50);
    alarm.at(80); // later: ignored
    expect(alarm.pending).toBe(50);
    alarm.at(20); // earlier: replaces
    clock.advance(19);
    expect(n).toBe(0);
    clock.advance(1);
    expect(n).toBe(1);
    clock.advance(100);
    expect(n).toBe(1);
    expect(alarm.pending).toBe(Number.POSITIVE_INFINITY);
  });
});
