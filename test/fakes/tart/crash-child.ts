// Runs a Tart backend in a process of its own, so a test can kill -9 it mid-life: a real crash, with
// its `tart run` children and guest runners left behind exactly as they would be on a Mac.
// Usage: node --import tsx crash-child.ts '<json CrashChildArgs>'; prints "ready" once set up.
import { createTartBackend } from '../../../backends/tart/index.js';
import { silentLogger } from '../../../src/log.js';
import { pollUntil } from '../../../src/util/poll-until.js';
import { spec, tartConfig } from './fixture.js';

export interface CrashChildArgs {
  home: string;
  stateDir: string;
  runnerDir: string;
  image: string;
  scaleSet: string;
  instanceId: string;
  poolSize: number;
  runners: { name: string; jit: string }[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as CrashChildArgs;
const backend = createTartBackend(
  {
    owner: { instanceId: args.instanceId, scaleSet: args.scaleSet },
    logger: silentLogger,
    stateDir: args.stateDir,
  },
  { image: args.image, tart: tartConfig(args.home, args.runnerDir, { poolSize: args.poolSize, maxVms: 4 }) },
);
const signal = AbortSignal.timeout(60_000);
await backend.prepare(signal);
for (const r of args.runners) await backend.start(spec(r.name, r.jit), signal);
await pollUntil(() => (backend.poolStatus().warm ?? 0) >= args.poolSize, {
  timeout: 30_000,
  what: 'warm pool',
});
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);
