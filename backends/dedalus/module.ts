import type { BackendModule } from '../module.js';
import {
  checkDedalusQuotas,
  type DedalusConfig,
  dedalusTable,
  quotaMisfit,
  resolveDedalus,
} from './config.js';

/** Runners on a sleeping pool of Dedalus machines. The implementation (API client, pool) loads on first use. */
export const dedalusBackend: BackendModule<'dedalus', DedalusConfig, typeof dedalusTable> = {
  kind: 'dedalus',
  schema: dedalusTable,
  description: 'Dedalus backend settings (cloud machines).',
  // Machines are provisioned by script, not from an image.
  runnerImage: { default: '' },
  resolve: resolveDedalus,
  checkAcrossSets: checkDedalusQuotas,
  // Each machine is created with the shape's size; a pooled machine of another size is never used for
  // it (the pools are per scale set, and each shape is a scale set of its own).
  shaped(config, size) {
    if (size.arch !== undefined)
      return { refused: 'arch', expected: 'nothing for dedalus (its machines have one architecture)' };
    const misfit = quotaMisfit(config.quotaVcpu, config.quotaMemoryMib, {
      vcpu: size.cpu,
      memoryMib: size.ram * 1024,
    });
    if (misfit?.key === 'vcpu') return { refused: 'cpu', expected: misfit.expected };
    if (misfit) {
      const most = Math.floor(config.quotaMemoryMib / 1024);
      return {
        refused: 'ram',
        expected: `at most ${most} (dedalus.quota-memory-mib is ${config.quotaMemoryMib}: no machine of this shape could ever wake)`,
      };
    }
    return {
      ...config,
      vcpu: size.cpu,
      memoryMib: size.ram * 1024,
      ...(size.disk !== undefined ? { storageGib: size.disk } : {}),
    };
  },
  async create(ctx, setup) {
    const { createDedalusBackend } = await import('./index.js');
    return createDedalusBackend(ctx, {
      dedalus: setup.config,
      ...(ctx.network ? { dispatcher: ctx.network.dispatcher } : {}),
    });
  },
  async validate(setup, opts) {
    const { dedalusChecks } = await import('./validate.js');
    return dedalusChecks(setup, opts);
  },
  // remove() adopts without starting the pool and listOwned reads the state file, so doctor never makes
  // or wakes a machine through the backend itself.
  inventory(ctx, setup) {
    return this.create(ctx, setup);
  },
};
