import type { BackendContext } from '../types.js';
import { DockerBackend, type DockerBackendOptions } from './backend.js';

export type { DockerBackendOptions } from './backend.js';
export { DockerBackend } from './backend.js';
export { DockerBackendError, type DockerBackendErrorCode } from './errors.js';
export { dockerClientFor, dockerOptionsFor } from './host.js';

export function createDockerBackend(ctx: BackendContext, opts: DockerBackendOptions): DockerBackend {
  return new DockerBackend(ctx, opts);
}
