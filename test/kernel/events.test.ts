import { describe, expect, it } from 'vitest';
import { EventHub } from '../../src/kernel/events.js';

async function take<T>(hub: EventHub<T>, n: number): Promise<T[]> {
  const ac = new AbortController();
  const seen: T[] = [];
  if (n === 0) return seen;
  for await (const e of hub.subscribe(ac.signal)) {
    seen.push(e);
    if (seen.length === n) ac.abort();
  }
  return seen;
}

describe('EventHub', () => {
  it('keeps events for the next subscriber while nobody listens', async () => {
    const hub = new EventHub<string>();
    hub.emit('a');
    const reading = take(hub, 2);
    hub.emit('b');
    expect(await reading).toEqual(['a', 'b']);
  });

  it('an event emitted between two subscriptions (a re-subscribe) reaches the second', async () => {
    const hub = new EventHub<string>();
    const first = take(hub, 1);
    hub.emit('one');
    expect(await first).toEqual(['one']);
    hub.emit('in the gap');
    const second = take(hub, 2);
    hub.emit('two');
    expect(await second).toEqual(['in the gap', 'two']);
  });

  it('what a subscriber left unconsumed goes back to the backlog', async () => {
    const hub = new EventHub<number>();
    for (let i = 0; i < 3; i++) hub.emit(i);
    expect(await take(hub, 1)).toEqual([0]);
    expect(await take(hub, 2)).toEqual([1, 2]);
  });

  it('bounds the backlog, dropping the oldest and counting them', async () => {
    const hub = new EventHub<number>({ limit: 3 });
    for (let i = 0; i < 5; i++) hub.emit(i);
    expect(hub.dropped).toBe(2);
    expect(await take(hub, 3)).toEqual([2, 3, 4]);
  });

  it('fans out to every subscriber and listener; close ends subscriptions', async () => {
    const hub = new EventHub<string>({ limit: 0 });
    const heard: string[] = [];
    const stop = hub.listen((e) => heard.push(e));
    const ac = new AbortController();
    const a: string[] = [];
    const b: string[] = [];
    const read = (into: string[]) =>
      (async () => {
        for await (const e of hub.subscribe(ac.signal)) into.push(e);
      })();
    const ra = read(a);
    const rb = read(b);
    await Promise.resolve();
    hub.emit('x');
    stop();
    hub.emit('y');
    hub.close();
    await Promise.all([ra, rb]);
    expect({ a, b, heard }).toEqual({ a: ['x', 'y'], b: ['x', 'y'], heard: ['x'] });
    hub.emit('after close');
    expect(await take(hub, 0)).toEqual([]);
  });
});

describe('EventHub listeners', () => {
  it('a listener that throws is reported and never reaches the emitter or the other listeners', () => {
    const errors: unknown[] = [];
    const hub = new EventHub<number>({ limit: 0, onListenerError: (e) => errors.push(e) });
    const heard: number[] = [];
    hub.listen(() => {
      throw new Error('bad listener');
    });
    hub.listen((e) => heard.push(e));
    expect(() => hub.emit(1)).not.toThrow();
    expect({ heard, errors: errors.map((e) => (e as Error).message) }).toEqual({
      heard: [1],
      errors: ['bad listener'],
    });
  });
});
