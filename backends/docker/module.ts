import { IMAGE_REFERENCE_EXPECTED, isImageReference } from '../../src/schema/image-ref.js';
import type { BackendModule, BackendSetup } from '../module.js';
import type { BackendContext } from '../types.js';
import { DOCKER_DEFAULT_IMAGE, type DockerConfig, dockerTable, resolveDocker } from './config.js';
import { checkDockerHostsAcrossSets, shapeMisfit } from './hosts-config.js';

async function open(ctx: BackendContext, setup: BackendSetup<DockerConfig>, inventory: boolean) {
  const { createDockerBackend } = await import('./index.js');
  return createDockerBackend(ctx, { image: setup.runnerImage, docker: setup.config, inventory });
}

/** Runners as containers on a Docker engine. The implementation (dockerode) loads on first use. */
export const dockerBackend: BackendModule<'docker', DockerConfig, typeof dockerTable> = {
  kind: 'docker',
  schema: dockerTable,
  description: 'Docker backend settings.',
  runnerImage: {
    default: DOCKER_DEFAULT_IMAGE,
    check: { valid: isImageReference, expected: IMAGE_REFERENCE_EXPECTED },
  },
  resolve: resolveDocker,
  // One engine, one budget: sets listing the same host must agree on it (backends/docker/hosts-config.ts).
  checkAcrossSets: checkDockerHostsAcrossSets,
  // A shape sizes each container; the engine's disk is shared (Docker caps a container's disk only on
  // overlay over xfs with quotas, which a runner pool cannot count on).
  shaped(config, size) {
    if (size.disk !== undefined)
      return { refused: 'disk', expected: "no disk for docker (a container's disk is its engine's)" };
    const misfit = shapeMisfit(config.hosts, size);
    if (misfit) return misfit;
    return {
      ...config,
      cpus: size.cpu,
      memory: size.ram * 1024 ** 3,
      ...(size.arch ? { platform: `linux/${size.arch}` } : {}),
    };
  },
  // A scale set that lists its own [[docker.hosts]] replaces an inherited `host`, and the other way round.
  alternatives: [['host', 'hosts']],
  create(ctx, setup) {
    return open(ctx, setup, false);
  },
  async validate(setup, opts) {
    const { dockerChecks } = await import('./validate.js');
    return dockerChecks(setup, opts);
  },
  // Listing and removing by owner labels starts nothing: the backend itself is the inventory, asking
  // every host (no health pings; a host that does not answer fails the listing, naming it).
  inventory(ctx, setup) {
    return open(ctx, setup, true);
  },
};
