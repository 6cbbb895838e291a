/**
 * A daemon stand-in for crash tests: starts one runner on the Dedalus backend, prints its handle as
 * one JSON line, then idles until the test SIGKILLs it (no close(), no cleanup: a real crash).
 * Usage: node --import tsx daemon-child.ts '<json ChildArgs>'
 */

import type { DedalusConfig } from '../../../backends/dedalus/config.js';
import { createDedalusBackend } from '../../../backends/dedalus/index.js';
import type { Owner } from '../../../backends/types.js';
import { createLogger } from '../../../src/log.js';
import { Secret } from '../../../src/secret.js';
import { TEST_TIMING } from './timing.js';

export interface ChildArgs {
  owner: Owner;
  stateDir: string;
  apiKey: string;
  cfg: Omit<DedalusConfig, 'apiKey'>;
  runner: { name: string; runnerId: number; jit: string };
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const backend = createDedalusBackend(
  {
    owner: args.owner,
    stateDir: args.stateDir,
    logger: createLogger({ level: 'warn', destination: process.stderr }),
  },
  { dedalus: { ...args.cfg, apiKey: new Secret(args.apiKey) }, timing: TEST_TIMING },
);
const handle = await backend.start(
  { name: args.runner.name, runnerId: args.runner.runnerId, jitConfig: new Secret(args.runner.jit) },
  AbortSignal.timeout(30_000),
);
process.stdout.write(`${JSON.stringify(handle)}\n`);
setInterval(() => {}, 1 << 30);
