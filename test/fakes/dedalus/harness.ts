import { onTestFinished } from 'vitest';
import {
  createDedalusClient,
  type DedalusClient,
  type DedalusHttpOptions,
} from '../../../backends/dedalus/api/index.js';
import { Secret } from '../../../src/secret.js';
import { type FakeDedalus, type FakeDedalusOptions, startFakeDedalus } from './index.js';

/** Phase delays small enough for tests, but not zero: clients must still see the intermediate phases. */
export const TEST_DELAYS = { accept: 5, start: 20, stop: 15, wake: 20, destroy: 10 };

/** A fake Dedalus that closes (and kills its processes) when the test ends. */
export async function useFakeDedalus(opts: FakeDedalusOptions = {}): Promise<FakeDedalus> {
  const fake = await startFakeDedalus({ delays: TEST_DELAYS, autosleepTickMs: 20, ...opts });
  onTestFinished(() => fake.close());
  return fake;
}

/** Sleeps that are recorded and skipped, so retry tests assert the waits without waiting them. */
export function recordingSleep(): {
  waits: number[];
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
} {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
    },
  };
}

export function clientFor(fake: FakeDedalus, opts: Partial<DedalusHttpOptions> = {}): DedalusClient {
  return createDedalusClient({ baseUrl: fake.url, apiKey: new Secret(fake.apiKey), ...opts });
}
