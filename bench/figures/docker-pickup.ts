import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { parseConfigText } from '../../src/config/index.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { LABEL_INSTANCE } from '../../src/labels.js';
import { createLogger } from '../../src/log.js';
import { pollUntil } from '../../src/util/poll-until.js';
import { type FakeActionsService, startFakeActionsService } from '../../test/fakes/actions-service/index.js';

export const IMAGE = 'runner-fake:test';
const docker = new Docker();

/** A daemon with the real Docker backend, in this process, against a fake on loopback. */
export async function dockerWorld(
  extra: string,
): Promise<{ fake: FakeActionsService; daemon: Daemon; instanceId: string; close(): Promise<void> }> {
  const fake = await startFakeActionsService({ holdMs: 2000, runnerClaimHoldMs: 60_000 });
  const stateDir = await mkdtemp(join(tmpdir(), 'runner-bench-'));
  const text = [
    `url = "${fake.configUrl()}"`,
    'name = "bench"',
    `state-dir = "${stateDir}"`,
    'health-port = 0',
    'log-level = "warn"',
    `runner-image = "${IMAGE}"`,
    extra,
    '[docker]',
    'network = "host"',
    'pull-policy = "never"',
    '',
  ].join('\n');
  const config = await parseConfigText(text, 'bench.toml', { RUNNER_TOKEN: fake.pat });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const daemon = await startDaemon(config, { logger: createLogger({ level: 'warn', destination: sink }) });
  await fake.waitFor(() => fake.sessions().length === 1, { timeout: 30_000, what: 'daemon session' });
  return {
    fake,
    daemon,
    instanceId: daemon.instanceId,
    async close() {
      await daemon.shutdown();
      await fake.close();
    },
  };
}

/** Start times (ms epoch) of containers carrying the instance label, from the engine's event stream. */
export async function watchStarts(instanceId: string): Promise<{ starts: number[]; stop(): void }> {
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['start'], label: [`${LABEL_INSTANCE}=${instanceId}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const starts: number[] = [];
  stream.on('data', () => starts.push(Date.now()));
  return { starts, stop: () => stream.destroy() };
}

/** Raw Docker: create + start of the same image with the same network, the physical floor. */
export async function rawDockerRun(): Promise<number> {
  const t0 = performance.now();
  const c = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['sh', '-c', 'sleep 5'],
    Labels: { 'runner-bench': 'raw' },
    HostConfig: { NetworkMode: 'host', AutoRemove: false },
  });
  await c.start();
  const ms = performance.now() - t0;
  return ms;
}

export async function removeRaw(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: ['runner-bench=raw'] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
}

export async function rawBurst(n: number, concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        await rawDockerRun();
      }
    }),
  );
  const ms = performance.now() - t0;
  await removeRaw();
  return ms;
}

export async function waitAll<T>(fn: () => T | undefined | false, timeout: number, what: string): Promise<T> {
  return pollUntil(fn, { timeout, interval: 5, what });
}
