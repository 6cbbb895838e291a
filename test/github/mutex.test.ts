import { describe, expect, it } from 'vitest';
import { Mutex } from '../../src/github/mutex.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Mutex', () => {
  it('runs callers one at a time in arrival order, even after a failure', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const gate = deferred();
    const a = mutex.run(async () => {
      log.push('a start');
      await gate.promise;
      log.push('a end');
      throw new Error('a failed');
    });
    const b = mutex.run(async () => {
      log.push('b');
      return 2;
    });
    await Promise.resolve();
    expect(log).toEqual(['a start']);
    gate.resolve();
    await expect(a).rejects.toThrow('a failed');
    await expect(b).resolves.toBe(2);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  it('a waiter that aborts leaves at once, and the next waits for the holder', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const gate = deferred();
    const holder = mutex.run(async () => {
      await gate.promise;
      log.push('holder');
    });
    const controller = new AbortController();
    const quitter = mutex.run(async () => {
      log.push('quitter ran');
    }, controller.signal);
    const next = mutex.run(async () => {
      log.push('next');
    });
    controller.abort(new Error('gave up'));
    await expect(quitter).rejects.toThrow('gave up');
    expect(log).toEqual([]);
    gate.resolve();
    await Promise.all([holder, next]);
    expect(log).toEqual(['holder', 'next']);
  });
});
