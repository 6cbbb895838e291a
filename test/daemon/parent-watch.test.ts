import { describe, expect, it } from 'vitest';
import { startedByNpm, watchParent } from '../../src/daemon/parent-watch.js';
import { ManualClock } from '../support/manual-clock.js';

describe('watchParent', () => {
  it('calls onGone once, within a second of the process being re-parented', () => {
    const clock = new ManualClock();
    let ppid = 4242;
    const gone: number[] = [];
    watchParent({ clock, ppid: () => ppid, onGone: (p) => gone.push(p) });
    clock.advance(5_000);
    expect(gone).toEqual([]);
    ppid = 1;
    clock.advance(1_000);
    expect(gone).toEqual([4242]);
    ppid = 77;
    clock.advance(10_000);
    expect(gone).toEqual([4242]);
  });

  it('stops watching when told to', () => {
    const clock = new ManualClock();
    let ppid = 10;
    const gone: number[] = [];
    const stop = watchParent({ clock, ppid: () => ppid, onGone: (p) => gone.push(p) });
    stop();
    ppid = 1;
    clock.advance(5_000);
    expect(gone).toEqual([]);
  });

  it('knows npm started the process from the variables npm exec and npm run set', () => {
    expect(startedByNpm({ npm_command: 'exec', npm_lifecycle_event: 'npx' })).toBe(true);
    expect(startedByNpm({ npm_lifecycle_event: 'start' })).toBe(true);
    expect(startedByNpm({ PATH: '/usr/bin' })).toBe(false);
  });
});
