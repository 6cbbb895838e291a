import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { vmPrefix } from '../../backends/tart/names.js';
import { Secret } from '../../src/secret.js';
import { type TartFixture, tartFixture } from '../fakes/tart/fixture.js';
import { describeBackendConformance } from './conformance.js';

let fx: TartFixture;
beforeAll(() => {
  fx = tartFixture();
  // Owners differ per test but share this Mac; lift Apple's limit so a leftover never blocks the next test.
  fx.tart.setFaults({ VM_LIMIT: 8 });
});
afterAll(async () => {
  await fx.cleanup();
});

describeBackendConformance(
  'tart',
  async ({ owner, behaviour }) => ({
    backend: fx.backend({
      scaleSet: owner.scaleSet,
      instanceId: owner.instanceId,
      // A runner-dir without run.sh: the VM boots, then starting the runner fails.
      runnerDir: behaviour.kind === 'fails-to-start' ? join(fx.root, 'no-runner-here') : fx.runnerDir,
    }),
    cleanup: () => fx.tart.removeVms(vmPrefix(owner)),
  }),
  {
    spec: (base, behaviour) =>
      behaviour.kind === 'exits'
        ? {
            ...base,
            jitConfig: new Secret(
              `exit:${behaviour.exitCode}:${behaviour.afterMs}:${base.jitConfig.reveal()}`,
            ),
          }
        : base,
  },
);
