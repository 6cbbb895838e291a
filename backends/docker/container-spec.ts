import type Docker from 'dockerode';
import { LABEL_RUNNER_ID, LABEL_RUNNER_NAME } from '../../src/labels.js';
import type { Owner, RunnerSpec } from '../types.js';
import type { DockerConfig } from './config.js';
import { ownerLabels } from './ownership.js';

export const JIT_ENV = 'ACTIONS_RUNNER_INPUT_JITCONFIG';
export const DEFAULT_COMMAND = ['/home/runner/run.sh'];
const CONTAINER_SOCKET = '/var/run/docker.sock';

/**
 * A create request split the way the engine wants it. It must be sent with the body apart from the
 * query: dockerode's createContainer otherwise copies every create option, Env included, into the URL
 * query string, which would put the JIT config in the request line (proxies and engine debug logs
 * record it).
 */
export interface CreateRequest {
  query: { name: string; platform?: string };
  body: Docker.ContainerCreateOptions;
}

export interface CreateInputs {
  spec: RunnerSpec;
  owner: Owner;
  image: string;
  docker: DockerConfig;
  /** Name of the shared cache volume, when `shared-volume` is set. */
  sharedVolume?: string | undefined;
  /** The engine socket to bind when dind is on, and its group so a non-root job user may use it. */
  socket?: { path: string; gid?: number | undefined } | undefined;
}

export function buildCreateRequest(inp: CreateInputs): CreateRequest {
  const { spec, docker } = inp;
  const labels = {
    ...ownerLabels(inp.owner),
    [LABEL_RUNNER_NAME]: spec.name,
    [LABEL_RUNNER_ID]: String(spec.runnerId),
  };
  const env = Object.entries(docker.env)
    .filter(([k]) => k !== JIT_ENV)
    .map(([k, v]) => `${k}=${v}`);
  if (inp.sharedVolume && docker.sharedVolume) env.push(`SHARED_DIR=${docker.sharedVolume}`);
  // The one place the JIT config leaves its Secret: the container env, which the runner reads and
  // the engine keeps out of argv (and out of `ps` on the host).
  env.push(`${JIT_ENV}=${spec.jitConfig.reveal()}`);

  const mounts: Docker.MountSettings[] = [];
  if (inp.sharedVolume && docker.sharedVolume) {
    mounts.push({ Type: 'volume', Source: inp.sharedVolume, Target: docker.sharedVolume });
  }
  for (const m of docker.mounts) {
    // The engine rejects a tmpfs mount that names a source.
    const source = m.type === 'tmpfs' ? '' : m.source;
    mounts.push({ Type: m.type, Source: source, Target: m.target, ReadOnly: m.readOnly });
  }

  const hostConfig: Docker.HostConfig = { Mounts: mounts };
  if (docker.network) hostConfig.NetworkMode = docker.network;
  if (docker.memory > 0) hostConfig.Memory = docker.memory;
  if (docker.cpus > 0) hostConfig.NanoCpus = Math.round(docker.cpus * 1e9);
  if (docker.dind && inp.socket) {
    // DANGER, by design and off by default: the engine socket gives every job full control of the
    // host's Docker engine: it can start privileged containers, mount /, and `docker inspect`
    // sibling runners to read their JIT configs. Only for trusted repositories.
    mounts.push({ Type: 'bind', Source: inp.socket.path, Target: CONTAINER_SOCKET });
    if (inp.socket.gid !== undefined && inp.socket.gid !== 0) hostConfig.GroupAdd = [String(inp.socket.gid)];
  }

  const body: Docker.ContainerCreateOptions = {
    Image: inp.image,
    Cmd: docker.command.length > 0 ? docker.command : DEFAULT_COMMAND,
    Env: env,
    Labels: labels,
    HostConfig: hostConfig,
  };
  if (docker.user) body.User = docker.user;
  const query: CreateRequest['query'] = { name: spec.name };
  if (docker.platform) query.platform = docker.platform;
  return { query, body };
}
