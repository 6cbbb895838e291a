import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { execa } from 'execa';
import type { DockerConfig } from '../../backends/docker/config.js';
import { buildCreateRequest } from '../../backends/docker/container-spec.js';
import { Secret } from '../../src/secret.js';
import { repoRoot } from './paths.js';

export const FAKE_IMAGE = 'runner-fake:test';

/** Label on the containers the benchmark makes itself (raw `docker run` baselines), for cleanup. */
export const LABEL_BENCH = 'dev.runner.bench';

/**
 * Builds the fake runner image into the engine at `dockerHost` (default: the CLI's default engine).
 * The build script is a no-op when the image is current.
 */
export async function ensureImage(dockerHost?: string): Promise<void> {
  await execa('bash', [join(repoRoot, 'test/fakes/runner/build-image.sh')], {
    stdin: 'ignore',
    env: dockerHost ? { DOCKER_HOST: dockerHost } : {},
  });
}

export interface ContainerTimes {
  name: string;
  labels: Record<string, string>;
  /** Engine timestamps (ms since the epoch, from the events' timeNano) per action. */
  create?: number;
  start?: number;
  die?: number;
  destroy?: number;
}

/**
 * Every container event of the engine, as the engine timestamps it. One subscription for the whole
 * benchmark: the engine's own clock says when a container started, for our runners and for the raw
 * baseline alike, so both are measured the same way.
 */
export class EngineEvents {
  readonly byName = new Map<string, ContainerTimes>();
  readonly #emitter = new EventEmitter();
  readonly #stream: Readable;

  private constructor(stream: Readable) {
    this.#stream = stream;
    this.#emitter.setMaxListeners(0);
    createInterface({ input: stream }).on('line', (line) => this.#onLine(line));
    // An engine restart ends the stream; callers that need events across one open a new watcher.
    stream.on('error', () => {});
  }

  static async open(docker: Docker): Promise<EngineEvents> {
    const stream = (await docker.getEvents({
      filters: { type: ['container'], event: ['create', 'start', 'die', 'destroy'] },
    })) as Readable;
    return new EngineEvents(stream);
  }

  #onLine(line: string): void {
    if (!line.trim()) return;
    const ev = JSON.parse(line) as {
      Action?: string;
      timeNano?: number;
      Actor?: { Attributes?: Record<string, string> };
    };
    const attrs = ev.Actor?.Attributes ?? {};
    const name = attrs.name;
    const action = ev.Action;
    if (!name || !action || ev.timeNano === undefined) return;
    let t = this.byName.get(name);
    if (!t) {
      t = { name, labels: attrs };
      this.byName.set(name, t);
    }
    const at = ev.timeNano / 1e6;
    if (action === 'create' || action === 'start' || action === 'die' || action === 'destroy')
      t[action] ??= at;
    this.#emitter.emit('event', t, action);
  }

  /** Resolves with the engine time of `action` on container `name` (already seen or yet to come). */
  when(name: string, action: 'create' | 'start' | 'die' | 'destroy', timeoutMs = 60_000): Promise<number> {
    const seen = this.byName.get(name)?.[action];
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onEvent = (t: ContainerTimes, a: string) => {
        if (t.name !== name || a !== action) return;
        done();
        resolve(t[action]!);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${action} event for container ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#emitter.off('event', onEvent);
      };
      this.#emitter.on('event', onEvent);
    });
  }

  /** Calls `fn` for every event from now on; returns the unsubscribe function. */
  on(fn: (t: ContainerTimes, action: string) => void): () => void {
    this.#emitter.on('event', fn);
    return () => this.#emitter.off('event', fn);
  }

  close(): void {
    this.#stream.destroy();
  }
}

export interface RawRun {
  name: string;
  /** Client clock before the create request. */
  t0: number;
  /** Client clock when start returned. */
  returned: number;
}

/**
 * The runner side of the fake runner protocol (test/fakes/runner/run.sh), played for raw containers:
 * `claim` hands out a job with the given script, `lease` is held open, `complete` is acknowledged. A raw
 * container of the runner image then does exactly what a runner container does once it is started (the
 * same forks, the same HTTP), so the baseline is the engine's speed for this image, not for `sleep`.
 */
export class RawRunnerEndpoint {
  readonly #server: Server;
  #port = 0;

  private constructor(script: string) {
    let job = 0;
    this.#server = createServer((req, res) => {
      const route = req.url?.split('?')[0]?.split('/').pop();
      if (route === 'claim') res.end(`JOB ${++job}\n${script}`);
      else if (route === 'lease') req.socket.setTimeout(0);
      else res.end();
    });
  }

  static async start(script: string): Promise<RawRunnerEndpoint> {
    const e = new RawRunnerEndpoint(script);
    await new Promise<void>((resolve) => e.#server.listen(0, '127.0.0.1', resolve));
    e.#port = (e.#server.address() as AddressInfo).port;
    return e;
  }

  url(n: number): string {
    return `http://127.0.0.1:${this.#port}/_raw/${n}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/**
 * `docker run -d` of the runner image with exactly the create request the Docker backend sends
 * (buildCreateRequest: labels, env with a JIT config of the usual size, mounts, network). With an
 * endpoint, the container runs the image's own entrypoint against it (the same work as a runner);
 * without, the command is `sleep`, so the container neither talks to anything nor exits.
 */
export class RawDocker {
  readonly tag = randomUUID().slice(0, 8);
  #n = 0;

  constructor(
    readonly docker: Docker,
    readonly dockerConfig: DockerConfig,
    readonly image = FAKE_IMAGE,
    readonly endpoint?: RawRunnerEndpoint,
  ) {}

  /** Same shape and size as the fake's JIT configs: base64 JSON with a runner URL. */
  #jit(n: number): Secret {
    const json = JSON.stringify({
      runnerUrl: this.endpoint?.url(n) ?? `http://127.0.0.1:1/_fake/runners/0/${'0'.repeat(24)}`,
      runnerName: 'bench-raw-00000000-00000000',
      runnerId: 0,
      scaleSetId: 0,
    });
    return new Secret(Buffer.from(json).toString('base64'));
  }

  async run(): Promise<RawRun> {
    const n = this.#n++;
    const name = `bench-raw-${this.tag}-${String(n).padStart(4, '0')}`;
    const req = buildCreateRequest({
      spec: { name, runnerId: 0, jitConfig: this.#jit(n) },
      owner: { instanceId: `bench-raw-${this.tag}`, scaleSet: 'raw' },
      image: this.image,
      docker: this.dockerConfig,
    });
    if (!this.endpoint) req.body.Cmd = ['sleep', '3600'];
    req.body.Labels = { ...req.body.Labels, [LABEL_BENCH]: this.tag };
    const t0 = Date.now();
    const c = await this.docker.createContainer({
      _query: req.query,
      _body: req.body,
    } as Docker.ContainerCreateOptions);
    await c.start();
    return { name, t0, returned: Date.now() };
  }

  /** `n` runs with at most `concurrency` in flight, as a pool of workers. */
  async runMany(n: number, concurrency: number): Promise<RawRun[]> {
    const out: RawRun[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        out.push(await this.run());
      }
    };
    await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
    return out;
  }

  /** Removes every container this instance made (not timed). */
  async removeAll(): Promise<void> {
    await removeLabelled(this.docker, `${LABEL_BENCH}=${this.tag}`);
  }
}

/** Force-removes every container carrying `label` (k=v), 16 at a time. */
export async function removeLabelled(docker: Docker, label: string): Promise<void> {
  const cs = await docker.listContainers({ all: true, filters: { label: [label] } });
  let i = 0;
  const worker = async () => {
    while (i < cs.length) {
      const c = cs[i++]!;
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
        });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
