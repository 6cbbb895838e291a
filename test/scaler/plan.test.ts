import { describe, expect, it } from 'vitest';
import { adopted, creating, next, type RunnerRecord } from '../../src/scaler/lifecycle.js';
import { type PlanInputs, plan, targetOf } from '../../src/scaler/plan.js';

const idle = (name: string, since: number, retireAfter = 0): RunnerRecord => ({
  ...adopted(name, { resourceId: `c-${name}` }, since),
  adopted: false,
  retireAfter,
});
const base: PlanInputs = {
  target: 0,
  maxRunners: 5,
  startSlots: 8,
  startNotBefore: 0,
  holds: new Map(),
  now: 10_000,
};

describe('target', () => {
  it('is min(max, backend cap, max(min, warm) + assigned), and 0 while draining', () => {
    const t = { minRunners: 1, maxRunners: 10, backendMax: undefined, warm: 0, assigned: 3, draining: false };
    expect(targetOf(t)).toBe(4);
    expect(targetOf({ ...t, warm: 3 })).toBe(6);
    expect(targetOf({ ...t, assigned: 50 })).toBe(10);
    expect(targetOf({ ...t, assigned: 50, backendMax: 2 })).toBe(2);
    expect(targetOf({ ...t, draining: true })).toBe(0);
  });
});

describe('plan', () => {
  it('starts up to the target, within max-runners counting removals, and the register-ahead slots', () => {
    expect(plan([], { ...base, target: 3 }).start).toBe(3);
    const removing = next(idle('x', 0), { type: 'job-completed' }, 1).record as RunnerRecord;
    expect(plan([removing], { ...base, target: 5 }).start).toBe(4);
    expect(plan([creating('a', 0), creating('b', 0)], { ...base, target: 5, startSlots: 3 }).start).toBe(1);
  });

  it('waits for the start gate and says when it opens', () => {
    const p = plan([], { ...base, target: 2, startNotBefore: 12_000 });
    expect({ start: p.start, wakeAt: p.wakeAt }).toEqual({ start: 0, wakeAt: 12_000 });
  });

  it('starts nothing while starts are paused (no wake-up: the pause is lifted by a call), but still scales down', () => {
    const p = plan([], { ...base, target: 2, startsPaused: true });
    expect({ start: p.start, wakeAt: p.wakeAt }).toEqual({ start: 0, wakeAt: Number.POSITIVE_INFINITY });
    expect(plan([idle('a', 0), idle('b', 1)], { ...base, target: 1, startsPaused: true }).retire).toEqual([
      'a',
    ]);
  });

  it('starts nothing and scales nothing down before the target is known', () => {
    const p = plan([idle('a', 0)], { ...base, target: undefined });
    expect({ start: p.start, retire: p.retire }).toEqual({ start: 0, retire: [] });
  });

  it('scales down the oldest idle runners, skipping one whose scale-down was just refused', () => {
    const records = [idle('new', 5000), idle('old', 1000, 11_000), idle('mid', 3000)];
    const p = plan(records, { ...base, target: 1 });
    expect(p.retire).toEqual(['mid', 'new']);
    expect(plan(records, { ...base, target: 2 })).toMatchObject({ retire: ['mid'], wakeAt: 11_000 });
  });

  it('a held slot counts as live until it expires; an expired one is dropped', () => {
    const holds = new Map([
      ['done-1', 15_000],
      ['done-2', 9_000],
    ]);
    const p = plan([], { ...base, target: 2, holds });
    expect(p).toMatchObject({ start: 1, live: 1, expiredHolds: ['done-2'], wakeAt: 15_000 });
  });

  it('retries stuck removals whose time came and wakes for the next one', () => {
    const stuck = (name: string, retryAt: number): RunnerRecord => ({
      name,
      createdAt: 0,
      since: 0,
      phase: 'stuck',
      runnerId: 1,
      removal: { cause: 'finished', exited: true, registration: true, resource: false },
      retryAt,
      attempts: 1,
    });
    const p = plan([stuck('a', 9_000), stuck('b', 20_000)], base);
    expect(p).toMatchObject({ retry: ['a'], wakeAt: 20_000, removing: 2 });
  });
});
