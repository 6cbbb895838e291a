import { describe, expect, it } from 'vitest';
import {
  adopted,
  creating,
  type LifecycleEvent,
  leftover,
  next,
  type RunnerRecord,
  removalRetryDelay,
  stateName,
} from '../../src/scaler/lifecycle.js';
import { Secret } from '../../src/secret.js';

const T = 1_000;
const jit = new Secret('jit-config-for-lifecycle-tests');

/** Plays events from a fresh runner and returns each step's phase and effect types. */
function play(events: LifecycleEvent[], from: RunnerRecord = creating('r1', 0)) {
  let r: RunnerRecord | undefined = from;
  const steps: string[] = [];
  events.forEach((e, i) => {
    if (!r) throw new Error(`event ${e.type} after the record is gone`);
    const t = next(r, e, T * (i + 1));
    r = t.record;
    const effects = t.effects.filter((x) => x.type !== 'log').map((x) => x.type);
    steps.push(`${e.type} → ${r ? stateName(r) : 'gone'}${effects.length ? ` [${effects.join(', ')}]` : ''}`);
  });
  return { steps, record: r as RunnerRecord | undefined };
}

const up: LifecycleEvent[] = [
  { type: 'registered', runnerId: 7, jitConfig: jit },
  { type: 'started', resourceId: 'c1', tier: 'cold' },
];

describe('runner lifecycle', () => {
  it('a job: registered, started, busy, finished; deregistered, then its resource removed', () => {
    expect(
      play([
        ...up,
        { type: 'job-started', jobRequestId: 3 },
        { type: 'job-completed' },
        { type: 'deregistered', outcome: 'removed' },
        { type: 'resource-removed' },
      ]).steps,
    ).toEqual([
      'registered → creating [start]',
      'started → idle',
      'job-started → busy',
      'job-completed → removing [deregister]',
      'deregistered → removing [remove-resource]',
      'resource-removed → gone [forget]',
    ]);
  });

  it('an exit after a job holds the slot until JobCompleted; a crash of an idle runner does not', () => {
    expect(
      play([...up, { type: 'job-started', jobRequestId: 3 }, { type: 'exited', exitCode: 0 }]).steps.at(-1),
    ).toBe('exited → removing [hold-slot, deregister]');
    // A clean exit of a runner we thought idle: a job too short for its JobStarted to have arrived.
    expect(play([...up, { type: 'exited', exitCode: 0 }]).steps.at(-1)).toBe(
      'exited → removing [hold-slot, deregister]',
    );
    expect(play([...up, { type: 'exited', exitCode: 137 }]).steps.at(-1)).toBe(
      'exited → removing [deregister]',
    );
  });

  it('a failed start removes its registration and whatever the backend made', () => {
    expect(play([up[0] as LifecycleEvent, { type: 'start-failed', aborted: false }]).steps).toEqual([
      'registered → creating [start]',
      'start-failed → removing [deregister]',
    ]);
    // Registration itself failed: nothing at GitHub, the (idempotent) resource removal only.
    expect(play([{ type: 'start-failed', aborted: false }]).steps).toEqual([
      'start-failed → removing [remove-resource]',
    ]);
  });

  it('a runner that ran its job during its own start is removed once the start returns', () => {
    const { steps } = play([
      up[0] as LifecycleEvent,
      { type: 'job-started', jobRequestId: 1 },
      { type: 'exited', exitCode: 0 },
      up[1] as LifecycleEvent,
    ]);
    expect(steps.at(-1)).toBe('started → removing [hold-slot, deregister]');
    expect(
      play([
        up[0] as LifecycleEvent,
        { type: 'job-started', jobRequestId: 1 },
        up[1] as LifecycleEvent,
      ]).steps.at(-1),
    ).toBe('started → busy');
  });

  it('a scale-down GitHub refuses (or cannot answer) keeps the runner and waits before trying again', () => {
    const refused = play([
      ...up,
      { type: 'retire', cause: 'scale-down' },
      { type: 'deregistered', outcome: 'busy' },
    ]);
    expect(refused.steps.slice(2)).toEqual(['retire → removing [deregister]', 'deregistered → busy']);
    expect(refused.record).toMatchObject({ phase: 'busy', resourceId: 'c1', retireAfter: 4 * T + 2000 });
    const unanswered = play([
      ...up,
      { type: 'retire', cause: 'scale-down' },
      { type: 'deregistered', outcome: 'error' },
    ]);
    expect(unanswered.record).toMatchObject({ phase: 'idle', retireAfter: 4 * T + 2000 });
  });

  it('a runner that exits while its scale-down waits on GitHub loses its resource even if GitHub fails', () => {
    const { steps, record } = play([
      ...up,
      { type: 'retire', cause: 'scale-down' },
      { type: 'exited', exitCode: 137 },
      { type: 'deregistered', outcome: 'error' },
      { type: 'resource-removed' },
    ]);
    expect(steps.slice(3)).toEqual([
      'exited → removing',
      'deregistered → removing [remove-resource]',
      'resource-removed → failed',
    ]);
    expect(record).toMatchObject({
      phase: 'stuck',
      removal: { registration: true, resource: false },
      attempts: 1,
    });
  });

  it('a stuck removal is retried with a growing delay and then finishes', () => {
    const { steps, record } = play([
      ...up,
      { type: 'job-completed' },
      { type: 'deregistered', outcome: 'removed' },
      { type: 'resource-remove-failed' },
      { type: 'retry' },
      { type: 'resource-remove-failed' },
    ]);
    expect(steps.slice(3)).toEqual([
      'deregistered → removing [remove-resource]',
      'resource-remove-failed → failed',
      'retry → removing [remove-resource]',
      'resource-remove-failed → failed',
    ]);
    expect(record).toMatchObject({ phase: 'stuck', attempts: 2, retryAt: 7 * T + removalRetryDelay(2) });
    expect([1, 2, 3, 10].map(removalRetryDelay)).toEqual([2000, 4000, 8000, 60_000]);
  });

  it('events that do not apply to a phase change nothing', () => {
    const idle = play(up).record as RunnerRecord;
    for (const e of [
      { type: 'registered', runnerId: 9, jitConfig: jit },
      { type: 'deregistered', outcome: 'removed' },
      { type: 'resource-removed' },
      { type: 'retry' },
    ] as LifecycleEvent[]) {
      expect(next(idle, e, 99 * T)).toEqual({ record: idle, effects: [] });
    }
  });

  it('leftovers and adopted runners', () => {
    expect(adopted('a', { resourceId: 'c', runnerId: 4 }, T)).toMatchObject({ phase: 'idle', adopted: true });
    const exited = leftover('b', { runnerId: 5, resourceId: 'c2', cause: 'leftover' }, T);
    expect(exited.effects.map((e) => e.type)).toEqual(['deregister']);
    const orphan = leftover('c', { runnerId: 6, cause: 'orphaned-registration' }, T);
    expect(orphan.record).toMatchObject({
      phase: 'removing',
      removal: { resource: false, registration: true },
    });
    const nothing = leftover('d', { cause: 'orphaned-registration' }, T);
    expect(nothing).toEqual({ record: undefined, effects: [{ type: 'forget' }] });
  });
});
