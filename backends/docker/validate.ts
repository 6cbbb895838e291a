import type Docker from 'dockerode';
import { type CheckResult, fail, type Outcome, ok } from '../../src/checks/result.js';
import { runCheck } from '../../src/checks/run-check.js';
import type { BackendSetup, CheckOptions } from '../module.js';
import { engineVersion, imageDistribution, inspectNetwork } from './call.js';
import type { DockerConfig } from './config.js';
import { explainConnectError } from './connect-errors.js';
import { describe, isNotFound } from './errors.js';
import { dockerClientFor } from './host.js';
import type { DockerHostConfig } from './hosts-config.js';
import { localImage } from './image.js';

/**
 * Each Docker host of one scale set, and the runner image and network on it. Read-only: the image is
 * looked up, never pulled; whether a missing image could be pulled is asked of the registry through the
 * engine. With several hosts every row names its host; the hosts are checked side by side.
 */
export async function dockerChecks(
  set: BackendSetup<DockerConfig>,
  opts: CheckOptions,
): Promise<CheckResult[]> {
  const hosts = set.config.hosts.length > 0 ? set.config.hosts : [{ name: 'default', url: '' }];
  const rows = await Promise.all(hosts.map((h) => hostChecks(set, h, hosts.length > 1, opts)));
  return rows.flat();
}

async function hostChecks(
  set: BackendSetup<DockerConfig>,
  host: DockerHostConfig,
  several: boolean,
  { timeoutMs, signal }: CheckOptions,
): Promise<CheckResult[]> {
  const url = host.url || 'default engine (DOCKER_HOST or /var/run/docker.sock)';
  const where = several ? `host ${host.name} (${url})` : url;
  const onHost = several ? ` on host ${host.name}` : '';
  let docker: Docker | undefined;
  const engine = await runCheck(
    {
      id: 'docker-engine',
      scaleSet: set.scaleSet,
      title: `Docker engine reachable: ${where}`,
      run: async (sig) => {
        docker = dockerClientFor(host);
        try {
          // The check's signal reaches the request: a deadline that only raced it would leave the
          // request, and the process with it, waiting on an engine that never answers.
          const v = await engineVersion(docker, sig);
          return ok(`Docker ${v.Version} (API ${v.ApiVersion}, ${v.Os}/${v.Arch})`);
        } catch (err) {
          if (sig.aborted) throw err;
          // TLS and ssh login failures name the file or credential to fix, not an OpenSSL code.
          const known = explainConnectError(host, err);
          if (known)
            return fail(
              known.message,
              known.code === 'DOCKER_TLS'
                ? 'fix the file named above, then run validate again'
                : 'fix the login named above, then run validate again',
            );
          return fail(
            describe(err),
            several
              ? `start Docker on ${host.name}, check its [[docker.hosts]] url, and that this user may use the engine`
              : 'start Docker, check [docker] host (or DOCKER_HOST), and that this user may use the socket (docker group)',
          );
        }
      },
    },
    timeoutMs,
    signal,
  );
  const title = `runner image ${set.runnerImage} available${onHost} (pull-policy ${set.config.pullPolicy})`;
  const network = set.config.network;
  const networkTitle = `network ${network} exists${onHost}`;
  if (engine.status !== 'ok' || !docker) {
    const skipped = (id: string, title: string): CheckResult => ({
      id,
      scaleSet: set.scaleSet,
      title,
      status: 'skip',
      detail: 'needs the Docker engine',
    });
    return [
      engine,
      skipped('runner-image', title),
      ...(network ? [skipped('docker-network', networkTitle)] : []),
    ];
  }
  const client = docker;
  const image = await runCheck(
    { id: 'runner-image', scaleSet: set.scaleSet, title, run: (sig) => imageOutcome(client, set, sig) },
    timeoutMs,
    signal,
  );
  if (!network) return [engine, image];
  const networkCheck = await runCheck(
    {
      id: 'docker-network',
      scaleSet: set.scaleSet,
      title: networkTitle,
      run: (sig) => networkOutcome(client, network, sig),
    },
    timeoutMs,
    signal,
  );
  return [engine, image, networkCheck];
}

/**
 * `[docker] network` as the engine will read it at the first start: a network by name or id, or
 * `container:<name>` to share another container's. Looked up, never created.
 */
async function networkOutcome(docker: Docker, network: string, signal: AbortSignal): Promise<Outcome> {
  const shared = /^container:(.+)$/.exec(network)?.[1];
  try {
    if (shared !== undefined) {
      const info = await docker.getContainer(shared).inspect({ abortSignal: signal });
      return ok(`shares the network of container ${info.Name.replace(/^\//, '')}`);
    }
    const info = await inspectNetwork(docker, network, signal);
    return ok(`${info.Name} (${info.Driver}, ${info.Scope})`);
  } catch (err) {
    if (signal.aborted || !isNotFound(err)) throw err;
  }
  if (shared !== undefined) {
    return fail(
      `no container ${JSON.stringify(shared)} on the engine to share a network with`,
      'start that container first, or set [docker] network to a network name',
    );
  }
  const names = await docker.listNetworks({ abortSignal: signal }).then(
    (list) => list.map((n) => n.Name).sort(),
    () => [],
  );
  return fail(
    `no network ${JSON.stringify(network)} on the engine`,
    `create it (docker network create ${network})${names.length > 0 ? `, or set [docker] network to one that exists: ${names.join(', ')}` : ''}`,
  );
}

async function imageOutcome(
  docker: Docker,
  set: BackendSetup<DockerConfig>,
  signal: AbortSignal,
): Promise<Outcome> {
  const { runnerImage: image, config: d } = set;
  // The same lookup and platform match as a start's (image.ts), so validate and run cannot disagree.
  const info = await localImage(docker, image, d.platform, signal);
  const local = info && shortDescription(info);
  if (d.pullPolicy === 'never') {
    return local
      ? ok(`present on the engine (${local})`)
      : fail(
          `not on the engine${d.platform ? ` for ${d.platform}` : ''}, and pull-policy "never" forbids pulling it`,
          `load it first (docker pull ${image}, or docker load), or set [docker] pull-policy = "if-not-present"`,
        );
  }
  if (local && d.pullPolicy === 'if-not-present') return ok(`present on the engine (${local})`);
  const remote = await registryLookup(docker, set, signal);
  if (remote === undefined) {
    return ok(
      local
        ? `present on the engine (${local}); the registry has it too (pulled at every start)`
        : 'not on the engine yet; the registry has it, so it is pulled at the first start',
    );
  }
  if (local) {
    return ok(
      `present on the engine (${local}); the registry lookup failed (${remote}), so start uses the local copy`,
    );
  }
  return fail(
    `not on the engine, and the registry lookup failed: ${remote}`,
    d.registryAuth
      ? 'check the image name and [docker.registry-auth]'
      : 'check the image name; a private image needs [docker.registry-auth]',
  );
}

/** "sha256:abc… linux/arm/v7". */
function shortDescription(info: Docker.ImageInspectInfo): string {
  return `${info.Id.slice(0, 19)} ${[info.Os, info.Architecture, info.Variant].filter(Boolean).join('/')}`;
}

/** The engine asks the registry for the manifest (GET /distribution/…): no layers are fetched. */
async function registryLookup(
  docker: Docker,
  set: BackendSetup<DockerConfig>,
  signal: AbortSignal,
): Promise<string | undefined> {
  const auth = set.config.registryAuth;
  const authconfig = auth
    ? { username: auth.username, password: auth.password.reveal(), serveraddress: auth.serverAddress }
    : undefined;
  try {
    await imageDistribution(docker, set.runnerImage, authconfig, signal);
    return undefined;
  } catch (err) {
    if (signal.aborted) throw err;
    return describe(err);
  }
}
