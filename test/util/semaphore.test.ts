import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/util/semaphore.js';

describe('Semaphore', () => {
  it('holds at most `size` at once and serves waiters in order', async () => {
    const s = new Semaphore(2);
    const order: string[] = [];
    const a = await s.acquire();
    const b = await s.acquire();
    expect(s.free).toBe(0);
    const c = s.acquire().then((r) => {
      order.push('c');
      return r;
    });
    const d = s.acquire().then((r) => {
      order.push('d');
      return r;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    const releaseC = await c;
    expect(order).toEqual(['c']);
    b();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    releaseD();
    expect(s.free).toBe(2);
  });

  it('a release called twice frees one slot only', async () => {
    const s = new Semaphore(1);
    const r = await s.acquire();
    r();
    r();
    expect(s.free).toBe(1);
  });

  it('an aborted waiter leaves the queue with the reason and never holds a slot', async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    const next = s.acquire();
    ac.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    held();
    const r = await next;
    expect(s.free).toBe(0);
    r();
    expect(s.free).toBe(1);
    await expect(s.acquire(AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('refuses a size below one', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
