import { describe, expect, it } from 'vitest';
import { STARTUP_PHASES, sigtermDuring } from '../../bench/soak/startup-sigterm.js';
import { useE2e } from '../e2e/support/e2e-env.js';
import { DockerProxy } from '../setup/docker-proxy.js';

const setup = useE2e();

describe('fault suite: SIGTERM during each phase of start-up (real daemon, real Docker through a proxy, fake GitHub)', () => {
  it.each(STARTUP_PHASES)(
    '%s: ends within its bound, with the documented exit code, leaving nothing it made',
    async (phase) => {
      const proxy = await DockerProxy.start();
      const env = await setup({ minRunners: 1, docker: `host = "${proxy.host}"` });
      env.onCleanup(() => proxy.close());
      const outcome = await sigtermDuring(phase, { env, proxy });
      expect(outcome.problems, JSON.stringify(outcome)).toEqual([]);
      if (process.env.SOAK_DUMP === '1') process.stderr.write(`${JSON.stringify(outcome)}\n`);
    },
  );
});
