import type { ScaleSetConfig } from '../src/config/types.js';
import { createDedalusBackend } from './dedalus/index.js';
import { createDockerBackend } from './docker/index.js';
import { createTartBackend } from './tart/index.js';
import type { BackendContext, RunnerBackend } from './types.js';

/** The only place that maps a backend name to its implementation; the scaler sees RunnerBackend. */
export function createBackend(cfg: ScaleSetConfig, ctx: BackendContext): RunnerBackend {
  switch (cfg.backend) {
    case 'docker':
      return createDockerBackend(ctx, { image: cfg.runnerImage, docker: cfg.docker });
    case 'tart':
      return createTartBackend(ctx, { image: cfg.runnerImage, tart: cfg.tart });
    case 'dedalus':
      return createDedalusBackend(ctx, { dedalus: cfg.dedalus });
  }
}
