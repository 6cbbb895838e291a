import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { DedalusConfig } from '../../../backends/dedalus/config.js';
import {
  createDedalusBackend,
  type DedalusBackend,
  type DedalusTiming,
} from '../../../backends/dedalus/index.js';
import type { Owner } from '../../../backends/types.js';
import { createLogger } from '../../../src/log.js';
import type { RunnerNetwork } from '../../../src/net/runner-network.js';
import { Secret } from '../../../src/secret.js';
import { useFakeDedalus } from './harness.js';
import type { FakeDedalus, FakeDedalusOptions, FakeMachine } from './index.js';
import { provisionInstalling } from './provision-script.js';
import { TEST_TIMING } from './timing.js';

export { TEST_TIMING };

export const TEST_RUNNER = fileURLToPath(new URL('./test-runner.sh', import.meta.url));
export const RUNNER_DIR = '/home/machine/actions-runner';

export interface DedalusFixture {
  fake: FakeDedalus;
  root: string;
  stateDir: string;
  /** Every log line the backends wrote, raw. */
  logs: string[];
  owner: Owner;
  cfg(over?: Partial<DedalusConfig>): DedalusConfig;
  backend(
    over?: Partial<DedalusConfig>,
    extra?: {
      owner?: Owner;
      timing?: Partial<DedalusTiming>;
      now?: () => Date;
      runnerNetwork?: RunnerNetwork;
    },
  ): DedalusBackend;
  /** A JIT config the test runner runs as its job: `script` is shell, run in <runner dir>/_work. */
  jit(script: string): Secret;
  /** Host path of a file under a machine's /home/machine. */
  home(m: FakeMachine | undefined, rel: string): string;
  provisionRuns(m: FakeMachine | undefined): number;
}

/** A fake Dedalus, a state dir and a log sink, all cleaned up when the test ends. */
export async function dedalusFixture(fakeOpts: FakeDedalusOptions = {}): Promise<DedalusFixture> {
  const fake = await useFakeDedalus(fakeOpts);
  const root = mkdtempSync(join(tmpdir(), 'dedalus-backend-'));
  const stateDir = join(root, 'state');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const provision = join(root, 'provision.sh');
  writeFileSync(
    provision,
    provisionInstalling(TEST_RUNNER, 'echo provisioned >> /home/machine/provision.log'),
  );
  const owner: Owner = { instanceId: `t-${randomBytes(4).toString('hex')}`, scaleSet: 'dedalus-e2e' };
  const backends: DedalusBackend[] = [];
  onTestFinished(async () => {
    for (const b of backends.reverse())
      await b.close({ signal: AbortSignal.timeout(15_000) }).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });
  const cfg = (over: Partial<DedalusConfig> = {}): DedalusConfig => ({
    apiKey: new Secret(fake.apiKey),
    baseUrl: fake.url,
    vcpu: 1,
    memoryMib: 1024,
    storageGib: 10,
    sleeping: 0,
    warm: 0,
    max: 3,
    quotaVcpu: 0,
    quotaMemoryMib: 0,
    schedule: [],
    provisionScript: provision,
    runnerDir: RUNNER_DIR,
    jobTimeout: 60_000,
    reuse: true,
    recycleAfterJobs: 0,
    recycleAfter: 0,
    ...over,
  });
  return {
    fake,
    root,
    stateDir,
    logs,
    owner,
    cfg,
    backend: (over = {}, extra = {}) => {
      const b = createDedalusBackend(
        {
          owner: extra.owner ?? owner,
          logger,
          stateDir,
          ...(extra.runnerNetwork ? { runnerNetwork: extra.runnerNetwork } : {}),
        },
        {
          dedalus: cfg(over),
          timing: { ...TEST_TIMING, ...extra.timing },
          retry: { initialMs: 5, maxMs: 50 },
          ...(extra.now ? { now: extra.now } : {}),
        },
      );
      backends.push(b);
      return b;
    },
    jit: (script) => new Secret(Buffer.from(script).toString('base64')),
    home: (m, rel) => join(m?.dirs.home ?? '/nonexistent', rel),
    provisionRuns: (m) => {
      try {
        return readFileSync(join(m?.dirs.home ?? '/nonexistent', 'provision.log'), 'utf8')
          .split('\n')
          .filter(Boolean).length;
      } catch {
        return 0;
      }
    },
  };
}
