import { describe, expect, it } from 'vitest';
import { Once } from '../../src/kernel/once.js';
import { TaskTracker } from '../../src/kernel/tasks.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('TaskTracker', () => {
  it('settle waits for tasks started meanwhile; failures go to onError', async () => {
    const errors: unknown[] = [];
    const tasks = new TaskTracker((e) => errors.push(e));
    const a = deferred();
    const b = deferred();
    tasks.track(a.promise.then(() => void tasks.track(b.promise)));
    const settled = tasks.settle();
    a.resolve();
    await Promise.resolve();
    b.reject(new Error('b failed'));
    expect(await settled).toBe(true);
    expect(tasks.size).toBe(0);
    expect(errors).toEqual([new Error('b failed')]);
  });

  it('settle gives up at its bound', async () => {
    const tasks = new TaskTracker(() => {});
    tasks.track(new Promise(() => {}));
    const ac = new AbortController();
    const settled = tasks.settle(ac.signal);
    ac.abort();
    expect(await settled).toBe(false);
    expect(tasks.size).toBe(1);
  });
});

describe('Once', () => {
  it('shares one run between callers and tries again after a failure', async () => {
    let runs = 0;
    const gate = deferred();
    const once = new Once(async (fail: boolean) => {
      runs++;
      await gate.promise;
      if (fail) throw new Error('first run failed');
      return runs;
    });
    const a = once.run(true);
    const b = once.run(false);
    gate.resolve();
    await expect(a).rejects.toThrow('first run failed');
    await expect(b).rejects.toThrow('first run failed');
    expect(await once.run(false)).toBe(2);
    expect(await once.run(true)).toBe(2);
    expect(runs).toBe(2);
  });
});
