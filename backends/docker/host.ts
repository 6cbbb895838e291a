import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { AnswerWatch } from '../../src/kernel/answers.js';
import { watchAnswers } from './call.js';
import { DockerBackendError } from './errors.js';
import type { DockerHostConfig } from './hosts-config.js';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** A host as `[docker] host` writes it, or a resolved `[[docker.hosts]]` entry. */
export type DockerHostRef = string | DockerHostConfig;

const urlOf = (host: DockerHostRef): string => (typeof host === 'string' ? host : host.url);

/**
 * dockerode options for a host. '' leaves everything to docker-modem, which reads DOCKER_HOST,
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. An explicit host sets every connection field, because
 * docker-modem merges its DOCKER_HOST defaults under ours: a unix:// host would otherwise inherit a
 * tcp host name from the environment and silently go there instead.
 *
 * tcp:// with tls-ca/tls-cert/tls-key: TLS, with those files and nothing from the environment; the
 * engine's certificate is always verified (against tls-ca, else Node's CAs) and its name checked.
 * tcp:// without them: as the docker CLI does with DOCKER_HOST: TLS when DOCKER_TLS_VERIFY=1 or the
 * port is 2376 (client files from DOCKER_CERT_PATH when set, verified against its ca.pem), plain
 * HTTP otherwise (port 2375).
 */
export function dockerOptionsFor(
  host: DockerHostRef,
  env: NodeJS.ProcessEnv = process.env,
): Docker.DockerOptions {
  const raw = urlOf(host);
  if (raw === '') return {};
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidHost(raw);
  }
  switch (url.protocol) {
    case 'unix:':
      return {
        socketPath: url.pathname || DEFAULT_SOCKET,
        host: undefined,
        port: undefined,
        protocol: 'http',
      };
    case 'tcp:': {
      if (!url.hostname) throw invalidHost(raw);
      const files = typeof host === 'string' ? undefined : tlsFiles(host);
      const tls = files !== undefined || env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
      const port = url.port || (tls ? '2376' : '2375');
      const base: Docker.DockerOptions = { socketPath: undefined, host: url.hostname, port };
      if (!tls) return { ...base, protocol: 'http', ca: undefined, cert: undefined, key: undefined };
      if (files) return { ...base, protocol: 'https', ...files };
      const certDir = env.DOCKER_CERT_PATH;
      if (!certDir) return { ...base, protocol: 'https', ca: undefined, cert: undefined, key: undefined };
      return {
        ...base,
        protocol: 'https',
        ca: readFileSync(join(certDir, 'ca.pem')),
        cert: readFileSync(join(certDir, 'cert.pem')),
        key: readFileSync(join(certDir, 'key.pem')),
      };
    }
    case 'ssh:':
      // docker-modem runs `docker system dial-stdio` on the remote over ssh2; auth comes from the agent.
      if (!url.hostname) throw invalidHost(raw);
      return {
        socketPath: undefined,
        protocol: 'ssh',
        host: url.hostname,
        port: url.port || '22',
        username: decodeURIComponent(url.username) || undefined,
        sshOptions: env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {},
      };
    default:
      throw invalidHost(raw);
  }
}

const TLS_FILES = [
  ['ca', 'tlsCa', 'tls-ca'],
  ['cert', 'tlsCert', 'tls-cert'],
  ['key', 'tlsKey', 'tls-key'],
] as const;

/**
 * The host's TLS files, read now (undefined when it names none). Every field is set, an absent one
 * to undefined, so none comes from DOCKER_CERT_PATH through docker-modem's defaults. The config load
 * checked them; one gone since is an error naming the key and the file.
 */
function tlsFiles(host: DockerHostConfig): Pick<Docker.DockerOptions, 'ca' | 'cert' | 'key'> | undefined {
  if (!TLS_FILES.some(([, field]) => host[field] !== undefined)) return undefined;
  const out: Pick<Docker.DockerOptions, 'ca' | 'cert' | 'key'> = {};
  for (const [option, field, key] of TLS_FILES) {
    const path = host[field];
    try {
      out[option] = path === undefined ? undefined : readFileSync(path);
    } catch (err) {
      throw new DockerBackendError(
        'DOCKER_TLS_FILE',
        `[[docker.hosts]] "${host.name}" ${key}: cannot read ${JSON.stringify(path)} (${err instanceof Error ? err.message : String(err)})`,
        { cause: err },
      );
    }
  }
  return out;
}

/**
 * The engine's socket path as seen on the engine's machine, for bind-mounting it into runners (dind).
 * Only a local unix socket is known; for tcp/ssh hosts the conventional path on the remote is assumed.
 */
export function engineSocketPath(host: string, env: NodeJS.ProcessEnv = process.env): string {
  const effective = host === '' ? (env.DOCKER_HOST ?? '') : host;
  if (effective.startsWith('unix://')) return effective.slice('unix://'.length) || DEFAULT_SOCKET;
  return DEFAULT_SOCKET;
}

/** The engine socket to bind for dind, with its group when it is a file on this machine. */
export async function engineSocket(host: string): Promise<{ path: string; gid?: number }> {
  const path = engineSocketPath(host);
  const effective = host === '' ? (process.env.DOCKER_HOST ?? '') : host;
  if (effective !== '' && !effective.startsWith('unix://')) return { path };
  try {
    return { path, gid: (await stat(path)).gid };
  } catch {
    return { path };
  }
}

function invalidHost(host: string): DockerBackendError {
  return new DockerBackendError(
    'DOCKER_INVALID_HOST',
    `[docker] host "${host}" is not a Docker host; expected unix:///path/docker.sock, tcp://host:2375, ssh://user@host or "" for DOCKER_HOST`,
  );
}

/**
 * The identity of a client: the url, and the TLS files when there are any (two sets may reach one
 * engine with different client certificates). A bare url and a config without TLS share a client.
 */
export function engineKey(host: DockerHostRef): string {
  if (typeof host === 'string') return host;
  const files = TLS_FILES.map(([, field]) => host[field] ?? '');
  return files.every((f) => f === '') ? host.url : [host.url, ...files].join('\0');
}

/**
 * One client per host for the whole process: scale sets on the same engine share its connection pool
 * instead of each opening their own, and one record of whether that engine answers. Clients live as
 * long as the process.
 */
const engines = new Map<string, { docker: Docker; answers: AnswerWatch }>();

function engineFor(host: DockerHostRef): { docker: Docker; answers: AnswerWatch } {
  const key = engineKey(host);
  let engine = engines.get(key);
  if (!engine) {
    const docker = new Docker(dockerOptionsFor(host));
    const answers = new AnswerWatch();
    watchAnswers(docker, answers);
    engine = { docker, answers };
    engines.set(key, engine);
  }
  return engine;
}

export function dockerClientFor(host: DockerHostRef): Docker {
  return engineFor(host).docker;
}

/** Whether the engine at `host` answers the calls made through dockerClientFor(host). */
export function engineAnswers(host: DockerHostRef): AnswerWatch {
  return engineFor(host).answers;
}
