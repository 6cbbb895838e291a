import type { Logger } from '../../src/log.js';
import { type TartCli, TIMEOUTS } from './cli.js';
import type { TartConfig } from './config.js';
import { TartError } from './errors.js';
import { listVms, type TartVm } from './list.js';

export type PullPolicy = TartConfig['pullPolicy'];

/** tart lists an untagged remote image as `…:latest`; compare like with like. */
export function normalizeImage(image: string): string {
  if (!isRemote(image)) return image;
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? image : `${image}:latest`;
}

/** An OCI reference, which `tart pull` can fetch; a name without "/" is a local VM. */
export function isRemote(image: string): boolean {
  return image.includes('/');
}

/**
 * Whether `tart list` holds the image: an exact name match, never a substring (`macos:14` is not
 * `macos:14.1`). Starts and `runner validate` both ask this.
 */
export function hasImage(vms: readonly TartVm[], image: string): boolean {
  const wanted = normalizeImage(image);
  return vms.some((v) => v.name === wanted);
}

/**
 * Makes sure the runner image is in TART_HOME according to the pull policy (presence: `hasImage`).
 * A local VM used as the image (no `/` in the name) can't be pulled, only checked.
 */
export async function ensureImage(
  cli: TartCli,
  image: string,
  policy: PullPolicy,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const remote = isRemote(image);
  if (policy === 'always' && remote) return pull(cli, image, logger, signal);
  if (hasImage(await listVms(cli, signal), image)) return;
  if (!remote) {
    throw new TartError(
      'TART_IMAGE_UNAVAILABLE',
      `runner-image "${image}" is not a VM in ${cli.home} (tart list)`,
    );
  }
  if (policy === 'never') {
    throw new TartError(
      'TART_IMAGE_UNAVAILABLE',
      `runner-image "${image}" is not in ${cli.home} and [tart] pull-policy is "never"; run \`tart pull ${image}\``,
    );
  }
  await pull(cli, image, logger, signal);
}

async function pull(cli: TartCli, image: string, logger: Logger, signal: AbortSignal): Promise<void> {
  logger.info({ image }, 'pulling Tart image');
  const started = Date.now();
  await cli.call(['pull', image], { signal, timeout: TIMEOUTS.pull, vm: image });
  logger.info({ image, ms: Date.now() - started }, 'pulled Tart image');
}
