import type Docker from 'dockerode';
import { LABEL_RUNNER_ID, LABEL_RUNNER_NAME } from '../../src/labels.js';
import {
  RUNNER_CA_BUNDLE,
  RUNNER_CA_FILE,
  type RunnerCaFiles,
  type RunnerNetwork,
  runnerVariables,
} from '../../src/net/runner-network.js';
import type { Owner, RunnerSpec } from '../types.js';
import type { DockerConfig } from './config.js';
import { ownerLabels } from './ownership.js';
import { tarArchive } from './tar.js';

export const JIT_ENV = 'ACTIONS_RUNNER_INPUT_JITCONFIG';
export const DEFAULT_COMMAND = ['/home/runner/run.sh'];
const CONTAINER_SOCKET = '/var/run/docker.sock';

/**
 * Where a runner container finds the CA files: a fixed path, whatever the image and its user, so the
 * variables pointing at them (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, …) are the same in every container.
 */
export const CONTAINER_CA_DIR = '/etc/runner-ca';

/**
 * A create request split the way the engine wants it. It must be sent with the body apart from the
 * query: dockerode's createContainer otherwise copies every create option, Env included, into the URL
 * query string, which would put the JIT config in the request line (proxies and engine debug logs
 * record it).
 */
export interface CreateRequest {
  query: { name: string; platform?: string };
  body: Docker.ContainerCreateOptions;
  /** Files copied into the created container before it starts (`PUT /containers/{id}/archive`). */
  archive?: { path: string; tar: Buffer } | undefined;
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
  /** The scale set's proxy and CA for its runners (`runner-env`). */
  runnerNetwork?: RunnerNetwork | undefined;
  /** The CA files as a tar (see caArchive), made once per backend rather than per start. */
  caArchive?: Buffer | undefined;
}

/**
 * The CA files as a tar for `/`: `etc/runner-ca/` with both PEM files, owned by root and read-only, so
 * a job cannot change what the next program it runs trusts. Copied into the container rather than bind
 * mounted: `[docker] host` may be an engine on another machine, where no file of this host exists.
 */
export function caArchive(ca: RunnerCaFiles): Buffer {
  const dir = CONTAINER_CA_DIR.slice(1);
  return tarArchive([
    { path: `${dir}/`, mode: 0o755 },
    { path: `${dir}/${RUNNER_CA_FILE}`, mode: 0o444, content: ca.extra },
    { path: `${dir}/${RUNNER_CA_BUNDLE}`, mode: 0o444, content: ca.bundle },
  ]);
}

export function buildCreateRequest(inp: CreateInputs): CreateRequest {
  const { spec, docker } = inp;
  const labels = {
    ...ownerLabels(inp.owner),
    [LABEL_RUNNER_NAME]: spec.name,
    [LABEL_RUNNER_ID]: String(spec.runnerId),
  };
  // `[docker] env` wins over the daemon's proxy and CA: setting HTTPS_PROXY there (in either case)
  // replaces both cases of ours, so no program reads the daemon's proxy from the other one.
  const own = new Set(Object.keys(docker.env).map((k) => k.toUpperCase()));
  const network = inp.runnerNetwork ? runnerVariables(inp.runnerNetwork, CONTAINER_CA_DIR) : [];
  const env = [
    ...network.filter(([k]) => !own.has(k.toUpperCase())),
    ...Object.entries(docker.env).filter(([k]) => k !== JIT_ENV),
  ].map(([k, v]) => `${k}=${v}`);
  if (inp.sharedVolume && docker.sharedVolume) env.push(`SHARED_DIR=${docker.sharedVolume}`);
  // The one place the JIT config leaves its Secret: the container env, which the runner reads and
  // the engine keeps out of argv (and out of `ps` on the host). Proxy credentials travel the same way.
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
  const ca = inp.runnerNetwork?.ca;
  const archive = ca ? { path: '/', tar: inp.caArchive ?? caArchive(ca) } : undefined;
  return { query, body, archive };
}
