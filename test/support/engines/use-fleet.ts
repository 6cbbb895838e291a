import { afterAll, beforeAll } from 'vitest';
import { EngineFleet, type FleetOptions } from './fleet.js';

/**
 * Call at the top of a test file: one fleet for the file's tests (started before them, stopped after
 * them). Returns a getter, valid inside tests.
 */
export function useEngineFleet(opts: FleetOptions = {}): () => EngineFleet {
  let fleet: EngineFleet | undefined;
  beforeAll(async () => {
    fleet = await EngineFleet.start(opts);
  }, 180_000);
  afterAll(async () => {
    await fleet?.stop();
  }, 120_000);
  return () => {
    if (!fleet) throw new Error('the engine fleet is not running (its beforeAll failed)');
    return fleet;
  };
}
