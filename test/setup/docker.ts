import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';
import { beforeAll, beforeEach } from 'vitest';
import { LABEL_INSTANCE } from '../../src/labels.js';
import { findExecutable } from './network-tools.js';

/** The fake runner image every Docker test runs (test/fakes/CONTRACT.md). */
export const FAKE_IMAGE = 'runner-fake:test';

const BUILD_SCRIPT = fileURLToPath(new URL('../fakes/runner/build-image.sh', import.meta.url));

export type DockerEnv = { available: true; image: string } | { available: false; reason: string };

let ready: Promise<DockerEnv> | undefined;

/**
 * Checks the engine and builds the fake runner image, once per test process (the build script itself
 * is a no-op when the image is current, so other processes pay a few ms).
 *
 * Without an engine: on CI (CI=true) this throws, so Docker tests fail and are never silently skipped;
 * elsewhere it reports the engine as unavailable and `useDocker()` skips the tests with the reason.
 */
export function ensureDocker(): Promise<DockerEnv> {
  ready ??= probe();
  return ready;
}

async function probe(): Promise<DockerEnv> {
  try {
    const timeout = AbortSignal.timeout(5_000);
    await Promise.race([
      new Docker().ping(),
      new Promise((_, reject) => timeout.addEventListener('abort', () => reject(timeout.reason))),
    ]);
  } catch (err) {
    const reason = `no Docker engine reachable (${process.env.DOCKER_HOST || 'default socket'}): ${
      err instanceof Error ? err.message : String(err)
    }`;
    if (process.env.CI === 'true') {
      throw new Error(
        `${reason}; CI=true, so Docker tests fail instead of skipping (.ci/run starts dockerd)`,
      );
    }
    return { available: false, reason };
  }
  await execa('bash', [BUILD_SCRIPT], { stdin: 'ignore' });
  return { available: true, image: FAKE_IMAGE };
}

/** The fake runner image with the host's curl added: a job that makes real TLS calls (with a CA and a proxy). */
export const FAKE_CURL_IMAGE = 'runner-fake-curl:test';

/**
 * Builds FAKE_CURL_IMAGE (a no-op when current): the fake image plus this host's curl and the shared
 * libraries it loads. curl reads HTTPS_PROXY/https_proxy, NO_PROXY and CURL_CA_BUNDLE as jobs' tools
 * do, and verifies certificates, which busybox's wget does not.
 */
export async function ensureCurlImage(): Promise<string> {
  const curl = findExecutable('curl');
  if (!curl) throw new Error('curl not found on this host (apt-get install curl)');
  await execa('bash', [BUILD_SCRIPT], {
    stdin: 'ignore',
    env: { IMAGE: FAKE_CURL_IMAGE, EXTRA_BINARIES: curl },
  });
  return FAKE_CURL_IMAGE;
}

/**
 * Call at the top of a Docker test file: makes sure of the engine and image before the tests, and skips
 * each test with the reason when there is no engine outside CI.
 */
export function useDocker(): { readonly image: string } {
  let env: DockerEnv | undefined;
  beforeAll(async () => {
    env = await ensureDocker();
  }, 120_000);
  beforeEach((ctx) => {
    if (env && !env.available) ctx.skip(env.reason);
  });
  return { image: FAKE_IMAGE };
}

/** A client for tests to look at the engine directly (never through the code under test). */
export const testDocker = new Docker();

/** Removes every container and volume labelled with `instanceId`: afterEach cleanup of one test. */
export async function removeByInstance(instanceId: string): Promise<void> {
  const label = [`${LABEL_INSTANCE}=${instanceId}`];
  const containers = await testDocker.listContainers({ all: true, filters: { label } });
  await Promise.all(
    containers.map((c) => testDocker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignore404)),
  );
  const { Volumes } = await testDocker.listVolumes({ filters: { label } });
  await Promise.all((Volumes ?? []).map((v) => testDocker.getVolume(v.Name).remove().catch(ignore404)));
}

/** Removes a container by name, whoever owns it (for containers a test made itself). */
export async function removeContainer(name: string): Promise<void> {
  await testDocker.getContainer(name).remove({ force: true, v: true }).catch(ignore404);
}

/** Removes a volume by name; a missing one is fine. */
export async function removeVolume(name: string): Promise<void> {
  await testDocker.getVolume(name).remove().catch(ignore404);
}

function ignore404(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode !== 404) throw err;
}
