import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BackendContext, RunnerBackend } from '../../backends/types.js';
import { parseConfigText } from '../../src/config/index.js';
import type { RunnerConfig, ScaleSetConfig } from '../../src/config/types.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import type { Clock } from '../../src/kernel/clock.js';
import { createLogger } from '../../src/log.js';
import type { FakeActionsService } from '../fakes/actions-service/index.js';

/** Captures every log line the daemon writes (for secret-leak assertions and debugging). */
export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export async function configFor(
  fake: FakeActionsService,
  toml: string,
  stateDir?: string,
): Promise<RunnerConfig> {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'runner-state-')));
  const text = `url = "${fake.configUrl()}"\nstate-dir = "${dir}"\nhealth-port = 0\n${toml}`;
  return parseConfigText(text, 'test.toml', { RUNNER_TOKEN: fake.pat });
}

export async function startTestDaemon(
  config: RunnerConfig,
  opts: {
    backend?: (cfg: ScaleSetConfig, ctx: BackendContext) => RunnerBackend;
    sink?: LogSink;
    level?: 'debug' | 'info';
    healthStaleAfterMs?: number;
    backendStallAfterMs?: number;
    clock?: Clock;
  } = {},
): Promise<{ daemon: Daemon; sink: LogSink }> {
  const sink = opts.sink ?? new LogSink();
  const logger = createLogger({ level: opts.level ?? 'debug', format: 'json', destination: sink });
  const daemon = await startDaemon(config, {
    logger,
    backendFactory: opts.backend,
    retry: { initial: 50, max: 500 },
    healthStaleAfterMs: opts.healthStaleAfterMs,
    ...(opts.backendStallAfterMs ? { backendStallAfterMs: opts.backendStallAfterMs } : {}),
    clientOptions: { retryWaitMin: 10, retryWaitMax: 100 },
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { daemon, sink };
}
