import { describe, expect, it } from 'vitest';
import { CapacityQueue } from '../../src/scaler/capacity-queue.js';

const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('CapacityQueue: jobs start in the order GitHub queued them, across scale sets on one budget', () => {
  it('a set waiting for room holds back younger ones on a shared budget, not older ones nor other budgets', () => {
    const q = new CapacityQueue();
    q.wait('big', 100, ['docker:h1']);
    expect(q.ahead('small', 200, ['docker:h1'])).toEqual({ set: 'big', since: 100 });
    expect(q.ahead('small', 50, ['docker:h1'])).toBeUndefined();
    expect(q.ahead('small', 200, ['docker:h2'])).toBeUndefined();
    // A set on several hosts is held back by a waiter on any of them.
    expect(q.ahead('small', 200, ['docker:h2', 'docker:h1'])).toEqual({ set: 'big', since: 100 });
    // Never by itself.
    expect(q.ahead('big', 300, ['docker:h1'])).toBeUndefined();
  });

  it('the oldest waiter is the one named; equal times are settled by name, so two sets never wait for each other', () => {
    const q = new CapacityQueue();
    q.wait('b', 100, ['x']);
    q.wait('a', 100, ['x']);
    q.wait('c', 50, ['x']);
    expect(q.ahead('d', 200, ['x'])).toEqual({ set: 'c', since: 50 });
    q.leave('c');
    expect(q.ahead('b', 100, ['x'])).toEqual({ set: 'a', since: 100 });
    expect(q.ahead('a', 100, ['x'])).toBeUndefined();
  });

  it('warm capacity (since Infinity) waits behind every job and holds back nobody', () => {
    const q = new CapacityQueue();
    q.wait('warm', Number.POSITIVE_INFINITY, ['x']);
    expect(q.ahead('job', 1e15, ['x'])).toBeUndefined();
    q.wait('job', 1e15, ['x']);
    expect(q.ahead('warm', Number.POSITIVE_INFINITY, ['x'])).toEqual({ set: 'job', since: 1e15 });
  });

  it('tells its listeners once per burst of changes, after the call, and when room frees on a budget in use', async () => {
    const q = new CapacityQueue();
    let calls = 0;
    const off = q.onChange(() => calls++);
    q.wait('a', 1, ['x']);
    q.wait('b', 2, ['x']);
    expect(calls).toBe(0);
    await tick();
    expect(calls).toBe(1);
    q.wait('a', 1, ['x']); // no change
    q.freed(['y']); // nobody waits on y
    await tick();
    expect(calls).toBe(1);
    q.freed(['x']);
    await tick();
    expect(calls).toBe(2);
    q.leave('a');
    q.leave('a');
    await tick();
    expect(calls).toBe(3);
    expect(q.waiting('a')).toBe(false);
    expect(q.waiting('b')).toBe(true);
    off();
    q.leave('b');
    await tick();
    expect(calls).toBe(3);
  });
});
