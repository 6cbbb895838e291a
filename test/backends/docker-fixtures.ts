import { Writable } from 'node:stream';
import { afterEach } from 'vitest';
import type { DockerConfig } from '../../backends/docker/config.js';
import { hostNameOf } from '../../backends/docker/hosts-config.js';
import {
  createDockerBackend,
  type DockerBackend,
  type DockerBackendOptions,
} from '../../backends/docker/index.js';
import type { Owner } from '../../backends/types.js';
import { createLogger, type Logger } from '../../src/log.js';
import { FAKE_IMAGE, removeByInstance } from '../setup/docker.js';
import type { BackendUnderTest, RunnerBehaviour } from './conformance.js';

/**
 * A [docker] section's overrides for a test; `host` is `[docker] host` as written, the one engine of
 * `hosts` (the config loader's list of one).
 */
export type DockerOverrides = Partial<DockerConfig> & { host?: string };

/** A complete [docker] section as the config loader would resolve it, for the fake runner image. */
export function dockerConfig(overrides: DockerOverrides = {}): DockerConfig {
  const { host = '', ...rest } = overrides;
  return {
    hosts: [{ name: hostNameOf(host), url: host }],
    network: 'host',
    dind: false,
    sharedVolume: '',
    sharedVolumeName: '',
    memory: 0,
    cpus: 0,
    platform: '',
    pullPolicy: 'never',
    env: {},
    mounts: [],
    command: ['sleep', '600'],
    user: '',
    buildxCleanup: false,
    ...rest,
  };
}

/** The fake image's command for a conformance behaviour. */
export function commandFor(b: RunnerBehaviour): string[] {
  switch (b.kind) {
    case 'long-running':
      return ['sleep', '600'];
    case 'exits':
      return ['sh', '-c', `sleep ${b.afterMs / 1000}; exit ${b.exitCode}`];
    case 'fails-to-start':
      return ['/no/such/runner-binary'];
  }
}

/** Log lines as parsed JSON plus the raw text, for assertions on what was (not) logged. */
export function memoryLogger(): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  raw: () => string;
} {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  return {
    logger,
    raw: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Backend options beyond `[docker]` a test may shorten. */
export type FixtureExtras = Pick<DockerBackendOptions, 'imageRefreshMs' | 'health' | 'ledger'>;

/** Health pings for tests: often, a quick verdict, short backoff. */
export const FAST_HEALTH = {
  everyMs: 200,
  timeoutMs: 2_000,
  downAfter: 2,
  retry: { initial: 50, max: 500 },
} as const;

export function makeDockerBackend(
  owner: Owner,
  docker: DockerOverrides = {},
  logger: Logger = memoryLogger().logger,
  image = FAKE_IMAGE,
  extra: FixtureExtras = {},
): BackendUnderTest & { backend: DockerBackend } {
  const backend = createDockerBackend(
    { owner, logger, stateDir: '/nonexistent' },
    {
      image,
      docker: dockerConfig(docker),
      eventBackoff: { initial: 50, max: 500 },
      ...extra,
    },
  );
  return { backend, cleanup: () => removeByInstance(owner.instanceId) };
}

/**
 * Per-test backends and cleanups for a describe block: everything made or deferred in a test is closed
 * and removed after it, in reverse order, even when the test failed half-way.
 */
export function useBackends() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    make(
      owner: Owner,
      docker: DockerOverrides = {},
      logger?: Logger,
      image?: string,
      extra?: FixtureExtras,
    ): DockerBackend {
      const made = makeDockerBackend(owner, docker, logger, image, extra);
      cleanups.push(async () => {
        await made.backend.close().catch(() => {});
        await made.cleanup();
      });
      return made.backend;
    },
    defer(fn: () => Promise<unknown>): void {
      cleanups.push(async () => {
        await fn();
      });
    },
  };
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the promise resolved');
}
