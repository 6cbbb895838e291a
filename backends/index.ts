import type { ScaleSetConfig } from '../src/config/types.js';
import type { BackendContext, RunnerBackend } from './types.js';

/**
 * The only place that maps a backend name to its implementation; the scaler sees RunnerBackend. Each
 * backend is loaded when a scale set uses it: a daemon on Docker does not hold the Tart and Dedalus
 * code in memory, nor Docker's client a Tart host.
 */
export async function createBackend(cfg: ScaleSetConfig, ctx: BackendContext): Promise<RunnerBackend> {
  switch (cfg.backend) {
    case 'docker': {
      const { createDockerBackend } = await import('./docker/index.js');
      return createDockerBackend(ctx, { image: cfg.runnerImage, docker: cfg.docker });
    }
    case 'tart': {
      const { createTartBackend } = await import('./tart/index.js');
      return createTartBackend(ctx, { image: cfg.runnerImage, tart: cfg.tart });
    }
    case 'dedalus': {
      const { createDedalusBackend } = await import('./dedalus/index.js');
      return createDedalusBackend(ctx, { dedalus: cfg.dedalus });
    }
  }
}
