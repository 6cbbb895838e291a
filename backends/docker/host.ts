import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { AnswerWatch } from '../../src/kernel/answers.js';
import { watchAnswers } from './call.js';
import { DockerBackendError } from './errors.js';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * dockerode options for a `[docker] host` value. '' leaves everything to docker-modem, which reads
 * DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. An explicit host sets every connection field,
 * because docker-modem merges its DOCKER_HOST defaults under ours: a unix:// host would otherwise
 * inherit a tcp host name from the environment and silently go there instead.
 */
export function dockerOptionsFor(host: string, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  if (host === '') return {};
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw invalidHost(host);
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
      if (!url.hostname) throw invalidHost(host);
      const tls = env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
      const port = url.port || (tls ? '2376' : '2375');
      const base: Docker.DockerOptions = { socketPath: undefined, host: url.hostname, port };
      if (!tls) return { ...base, protocol: 'http' };
      const certDir = env.DOCKER_CERT_PATH;
      if (!certDir) return { ...base, protocol: 'https' };
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
      if (!url.hostname) throw invalidHost(host);
      return {
        socketPath: undefined,
        protocol: 'ssh',
        host: url.hostname,
        port: url.port || '22',
        username: decodeURIComponent(url.username) || undefined,
        sshOptions: env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {},
      };
    default:
      throw invalidHost(host);
  }
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
 * One client per host string for the whole process: scale sets on the same engine share its connection
 * pool instead of each opening their own, and one record of whether that engine answers. Clients live
 * as long as the process.
 */
const engines = new Map<string, { docker: Docker; answers: AnswerWatch }>();

function engineFor(host: string): { docker: Docker; answers: AnswerWatch } {
  let engine = engines.get(host);
  if (!engine) {
    const docker = new Docker(dockerOptionsFor(host));
    const answers = new AnswerWatch();
    watchAnswers(docker, answers);
    engine = { docker, answers };
    engines.set(host, engine);
  }
  return engine;
}

export function dockerClientFor(host: string): Docker {
  return engineFor(host).docker;
}

/** Whether the engine at `host` answers the calls made through dockerClientFor(host). */
export function engineAnswers(host: string): AnswerWatch {
  return engineFor(host).answers;
}
