import { describe, expect, it } from 'vitest';
import { delay, onAbort, raceAbort, settleWithin } from '../../src/kernel/abort.js';

/** An AbortSignal that counts its listeners, to prove helpers remove theirs. */
function countingSignal() {
  const ac = new AbortController();
  let listeners = 0;
  const add = ac.signal.addEventListener.bind(ac.signal);
  const remove = ac.signal.removeEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  }) as typeof add;
  ac.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  }) as typeof remove;
  return { ac, listeners: () => listeners };
}

describe('raceAbort', () => {
  it('settles like the promise and removes its listener', async () => {
    const { ac, listeners } = countingSignal();
    for (let i = 0; i < 100; i++) await raceAbort(Promise.resolve(i), ac.signal);
    await expect(raceAbort(Promise.reject(new Error('no')), ac.signal)).rejects.toThrow('no');
    expect(listeners()).toBe(0);
  });

  it('rejects with the reason as soon as the signal aborts, though the promise never settles', async () => {
    const ac = new AbortController();
    const p = raceAbort(new Promise(() => {}), ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });

  it('rejects at once on an aborted signal without an unhandled rejection of the abandoned promise', async () => {
    const ac = new AbortController();
    ac.abort(new Error('already'));
    await expect(raceAbort(Promise.reject(new Error('later')), ac.signal)).rejects.toThrow('already');
  });
});

describe('settleWithin', () => {
  it('is true when the promise settles (even rejected) and false at the bound', async () => {
    const { ac, listeners } = countingSignal();
    expect(await settleWithin(Promise.reject(new Error('x')), ac.signal)).toBe(true);
    expect(listeners()).toBe(0);
    const pending = settleWithin(new Promise(() => {}), ac.signal);
    ac.abort();
    expect(await pending).toBe(false);
  });
});

describe('delay and onAbort', () => {
  it('delay removes its listener when the time is up, and rejects on abort', async () => {
    const { ac, listeners } = countingSignal();
    await delay(1, ac.signal);
    expect(listeners()).toBe(0);
    const p = delay(60_000, ac.signal);
    ac.abort(new Error('cut'));
    await expect(p).rejects.toThrow('cut');
  });

  it('onAbort calls at once for an aborted signal, and its disposer stops a later call', () => {
    const done = new AbortController();
    done.abort('r');
    const seen: unknown[] = [];
    onAbort(done.signal, (r) => seen.push(r));
    const ac = new AbortController();
    const stop = onAbort(ac.signal, (r) => seen.push(r));
    stop();
    ac.abort('late');
    expect(seen).toEqual(['r']);
  });
});
