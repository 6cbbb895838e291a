import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createDedalusBackend } from '../../backends/dedalus/index.js';
import { silentLogger } from '../../src/log.js';
import { Secret } from '../../src/secret.js';
import { RUNNER_DIR, TEST_RUNNER } from '../fakes/dedalus/backend-fixture.js';
import { TEST_DELAYS } from '../fakes/dedalus/harness.js';
import { type FakeDedalus, startFakeDedalus } from '../fakes/dedalus/index.js';
import { provisionInstalling } from '../fakes/dedalus/provision-script.js';
import { TEST_TIMING } from '../fakes/dedalus/timing.js';
import { describeBackendConformance, type RunnerBehaviour } from './conformance.js';

let fake: FakeDedalus;
let root: string;
let provision: string;
beforeAll(async () => {
  fake = await startFakeDedalus({ delays: TEST_DELAYS, autosleepTickMs: 20 });
  root = mkdtempSync(join(tmpdir(), 'dedalus-conformance-'));
  provision = join(root, 'provision.sh');
  writeFileSync(provision, provisionInstalling(TEST_RUNNER));
});
afterAll(async () => {
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

/** The test runner runs its JIT config (base64 shell) as the job. */
function job(behaviour: RunnerBehaviour): string {
  if (behaviour.kind === 'exits') return `sleep ${behaviour.afterMs / 1000}; exit ${behaviour.exitCode}`;
  return 'sleep 600';
}

describeBackendConformance(
  'dedalus',
  async ({ owner, behaviour }) => ({
    backend: createDedalusBackend(
      // One state dir per daemon instance, as in production (instance-id lives in state-dir).
      { owner, logger: silentLogger, stateDir: join(root, owner.instanceId) },
      {
        dedalus: {
          apiKey: new Secret(fake.apiKey),
          baseUrl: fake.url,
          vcpu: 1,
          memoryMib: 1024,
          storageGib: 10,
          sleeping: 0,
          warm: 0,
          max: 4,
          quotaVcpu: 0,
          quotaMemoryMib: 0,
          schedule: [],
          // The built-in script installs no run.sh, so the runner cannot start.
          provisionScript: behaviour.kind === 'fails-to-start' ? '' : provision,
          runnerDir: RUNNER_DIR,
          jobTimeout: 60_000,
          reuse: true,
          recycleAfterJobs: 0,
          recycleAfter: 0,
        },
        timing: TEST_TIMING,
      },
    ),
    cleanup: async () => fake.destroyAll(),
  }),
  {
    timeout: 20_000,
    spec: (base, behaviour) => ({
      ...base,
      jitConfig: new Secret(Buffer.from(job(behaviour)).toString('base64')),
    }),
  },
);
