import type { SleepFn } from '../../../src/github/index.js';

/** A SleepFn that records each requested wait and returns at once, so retry tests take no time. */
export function recordingSleep(): { sleep: SleepFn; waits: number[] } {
  const waits: number[] = [];
  const sleep: SleepFn = async (ms, signal) => {
    signal?.throwIfAborted();
    waits.push(ms);
  };
  return { sleep, waits };
}
