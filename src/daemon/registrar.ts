import type { ActionsClient } from '../github/client.js';
import { isJobStillRunning, isRunnerNotFound } from '../github/index.js';
import type { Registrar } from '../scaler/types.js';
import { Secret } from '../secret.js';

/** The scaler's view of GitHub, over the protocol client. */
export function actionsRegistrar(client: ActionsClient, scaleSetId: () => number): Registrar {
  return {
    async register(name, signal) {
      const jit = await client.generateJitRunnerConfig({ name, workFolder: '_work' }, scaleSetId(), signal);
      return { runnerId: jit.runner.id, jitConfig: new Secret(jit.encodedJITConfig) };
    },
    async unregister(runnerId, signal) {
      try {
        return await client.removeRunnerIfPresent(runnerId, signal);
      } catch (err) {
        if (isRunnerNotFound(err)) return 'not-found';
        if (isJobStillRunning(err)) return 'busy';
        throw err;
      }
    },
    async findByName(name, signal) {
      const r = await client.getRunnerByName(name, signal);
      return r?.id;
    },
  };
}
