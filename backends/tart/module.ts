import { isTartImage, TART_IMAGE_EXPECTED } from '../../src/schema/image-ref.js';
import type { BackendModule } from '../module.js';
import { checkTartHostLimits, resolveTart, type TartConfig, tartTable } from './config.js';

/** Runners in macOS VMs through the tart CLI. The implementation (execa, VM lifecycle) loads on first use. */
export const tartBackend: BackendModule<'tart', TartConfig, typeof tartTable> = {
  kind: 'tart',
  schema: tartTable,
  description: 'Tart backend settings (macOS VMs).',
  runnerImage: {
    // Without one, runscaler gave a Tart set the Docker image, which then failed at `tart pull` with a
    // confusing error; here it is a config error that says what to write.
    missing:
      'expected the Tart VM image to clone, e.g. "ghcr.io/cirruslabs/macos-sequoia-xcode:latest" (backend = "tart" has no default), got nothing',
    check: { valid: isTartImage, expected: TART_IMAGE_EXPECTED },
  },
  resolve: resolveTart,
  // `tart set` sizes each clone before it boots (vm.ts). Tart runs macOS on Apple silicon only, and a
  // clone's disk is its image's.
  shaped(config, size) {
    if (size.arch !== undefined && size.arch !== 'arm64')
      return { refused: 'arch', expected: '"arm64" or nothing for tart (macOS VMs on Apple silicon)' };
    if (size.disk !== undefined)
      return { refused: 'disk', expected: "no disk for tart (a VM's disk is its image's)" };
    // A shape no Mac budget could ever hold is a config error, not a job waiting forever.
    if (config.hostCpu > 0 && size.cpu > config.hostCpu)
      return {
        refused: 'cpu',
        expected: `at most ${config.hostCpu} (tart.host-cpu: no VM of this shape could ever run)`,
      };
    if (config.hostMemory > 0 && size.ram * 1024 > config.hostMemory) {
      const most = Math.floor(config.hostMemory / 1024);
      return {
        refused: 'ram',
        expected: `at most ${most} (tart.host-memory is ${config.hostMemory} MiB: no VM of this shape could ever run)`,
      };
    }
    return { ...config, cpu: size.cpu, memory: size.ram * 1024 };
  },
  checkAcrossSets: checkTartHostLimits,
  async create(ctx, setup) {
    const { createTartBackend } = await import('./index.js');
    return createTartBackend(ctx, { image: setup.runnerImage, tart: setup.config });
  },
  async validate(setup, opts) {
    const { tartChecks } = await import('./validate.js');
    return tartChecks(setup, opts);
  },
  // Listing reads the journal and `tart list`; removal stops and deletes. Neither boots a VM (the pool
  // and adoption start only with prepare() or a start), so the backend itself is the inventory.
  inventory(ctx, setup) {
    return this.create(ctx, setup);
  },
};
