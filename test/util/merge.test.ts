import { describe, expect, it } from 'vitest';
import { mergeAsync } from '../../src/util/merge.js';
import { Pulse } from '../../src/util/pulse.js';

/** A source the test feeds by hand; records whether it was told to stop. */
function source<T>() {
  const queue: T[] = [];
  const pulse = new Pulse();
  let ended = false;
  let failure: Error | undefined;
  const state = { returned: false };
  async function* run(): AsyncGenerator<T> {
    try {
      for (;;) {
        const item = queue.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await pulse.wait();
      }
    } finally {
      state.returned = true;
    }
  }
  return {
    iterable: run(),
    push(item: T) {
      queue.push(item);
      pulse.fire();
    },
    end() {
      ended = true;
      pulse.fire();
    },
    fail(err: Error) {
      failure = err;
      pulse.fire();
    },
    state,
  };
}

describe('mergeAsync', () => {
  it('yields items of every source as they come and ends when all have ended', async () => {
    const a = source<string>();
    const b = source<string>();
    const merged = mergeAsync([a.iterable, b.iterable]);
    a.push('a1');
    expect((await merged.next()).value).toBe('a1');
    b.push('b1');
    expect((await merged.next()).value).toBe('b1');
    a.end();
    b.push('b2');
    expect((await merged.next()).value).toBe('b2');
    b.end();
    expect(await merged.next()).toEqual({ done: true, value: undefined });
  });

  it('a failing source ends the merge with its error; stopping early stops the others', async () => {
    const a = source<number>();
    const b = source<number>();
    const merged = mergeAsync([a.iterable, b.iterable]);
    b.push(1);
    expect((await merged.next()).value).toBe(1);
    a.fail(new Error('stream broke'));
    await expect(merged.next()).rejects.toThrow('stream broke');

    const c = source<number>();
    const d = source<number>();
    const seen: number[] = [];
    c.push(7);
    for await (const n of mergeAsync([c.iterable, d.iterable])) {
      seen.push(n);
      break;
    }
    expect(seen).toEqual([7]);
    // Both wait inside their loops: the return they were sent takes effect at their next item (a
    // source that waits on I/O must also listen to a signal the consumer aborts; the Docker backend's do).
    c.push(8);
    d.push(9);
    await expect.poll(() => c.state.returned && d.state.returned).toBe(true);
  });
});
