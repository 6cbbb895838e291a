import { readFile } from 'node:fs/promises';
import { Once } from '../../src/kernel/once.js';
import type { DedalusContext } from './context.js';
import { DedalusBackendError } from './errors.js';
import { Fleet } from './fleet.js';
import { MachineOps } from './machine-ops.js';
import { PoolKeeper } from './pool.js';
import { Provisioner } from './provision.js';
import { Releaser } from './release.js';
import { RunnerHost } from './runner-host.js';
import type { TierSchedule } from './schedule.js';
import { DEFAULT_PROVISION_SCRIPT } from './scripts.js';
import { Sleeper } from './sleeper.js';
import type { MachineStateFile } from './state.js';

/** The working parts of one backend, wired around a shared context. */
export interface Parts {
  c: DedalusContext;
  provisioner: Provisioner;
  releaser: Releaser;
  host: RunnerHost;
  pool: PoolKeeper;
  sleeper: Sleeper;
}

export type PartsInput = Omit<
  DedalusContext,
  'fleet' | 'ops' | 'kick' | 'takePoolCreation' | 'provisionScript'
> & { state: MachineStateFile; schedule: TierSchedule };

export function assemble(input: PartsInput): Parts {
  const { state, schedule, ...shared } = input;
  const fleet = new Fleet(state);
  // Known but not yet adopted: close({removeAll}) and counts work before anything is taken over.
  for (const rec of state.records()) fleet.add(rec, 'idle');
  let pool: PoolKeeper | undefined;
  const c: DedalusContext = {
    ...shared,
    fleet,
    ops: new MachineOps(shared.client, shared.timing, shared.log),
    kick: () => pool?.kick(),
    takePoolCreation: () => pool?.takeCreation(),
    provisionScript: scriptReader(shared.cfg.provisionScript),
  };
  const sleeper = new Sleeper(c);
  const provisioner = new Provisioner(c, sleeper);
  const releaser = new Releaser(c, provisioner, sleeper);
  const host = new RunnerHost(c, provisioner, releaser, sleeper);
  pool = new PoolKeeper(c, provisioner, sleeper, schedule, () => host.inFlight);
  return { c, provisioner, releaser, host, pool, sleeper };
}

/** The provision script's text, read once ('' = the built-in one); a failed read is retried next time. */
function scriptReader(path: string): () => Promise<string> {
  if (path === '') return () => Promise.resolve(DEFAULT_PROVISION_SCRIPT);
  const text = new Once(() =>
    readFile(path, 'utf8').catch((err: unknown) => {
      throw new DedalusBackendError(
        'DEDALUS_CONFIG',
        `dedalus.provision-script: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }),
  );
  return () => text.run();
}
