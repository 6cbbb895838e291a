import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TartConfig } from '../../../backends/tart/config.js';
import { createTartBackend } from '../../../backends/tart/index.js';
import type { RunnerBackend, RunnerEvent } from '../../../backends/types.js';
import { createLogger } from '../../../src/log.js';
import type { RunnerNetwork } from '../../../src/net/runner-network.js';
import { Secret } from '../../../src/secret.js';
import { pollUntil } from '../../../src/util/poll-until.js';
import { FAKE_TART_DIR, FakeTart } from './index.js';

export const IMAGE = 'ghcr.io/acme/macos-runner:15';

/**
 * A stand-in for the Actions runner inside the fake VMs: records its environment and the JIT config it was given, then
 * waits until the test releases it with an exit code (a file, so no timing is involved). A JIT config
 * `exit:<code>:<ms>:…` makes it exit by itself after <ms> instead (the conformance suite's behaviour).
 */
const RUN_SH = `#!/bin/sh
out=__OUT__
jit=$ACTIONS_RUNNER_INPUT_JITCONFIG
id=$(printf %s "$jit" | tr -c 'a-zA-Z0-9-' '_')
env > "$out/env-$id"
printf %s "$jit" > "$out/started-$id"
case "$jit" in
exit:*)
  sleep "$(printf %s "$jit" | awk -F: '{ print $3 / 1000 }')"
  exit "$(printf %s "$jit" | cut -d: -f2)" ;;
esac
while [ ! -f "$out/release-$id" ]; do sleep 0.05; done
exit "$(cat "$out/release-$id")"
`;

export interface TartFixture {
  root: string;
  tart: FakeTart;
  stateDir: string;
  runnerDir: string;
  logs: string[];
  backend(over?: BackendOverrides): RunnerBackend;
  /** Resolves with the JIT config the guest runner received. */
  runnerStarted(jit: string): Promise<string>;
  /** The environment the guest runner started with (after runnerStarted). */
  runnerEnv(jit: string): Record<string, string>;
  releaseRunner(jit: string, exitCode: number): void;
  /** The backends' journal records (every owner's, in `dir`, default the state dir), as { vm: record }. */
  journal(dir?: string): Record<string, { kind: string; phase: string; runner?: string }>;
  cleanup(): Promise<void>;
}

export interface BackendOverrides extends Partial<TartConfig> {
  runnerNetwork?: RunnerNetwork;
  scaleSet?: string;
  instanceId?: string;
  image?: string;
  stateDir?: string;
}

export function tartConfig(home: string, runnerDir: string, over: Partial<TartConfig> = {}): TartConfig {
  return {
    home,
    runnerDir,
    poolSize: 0,
    cpu: 0,
    memory: 0,
    maxVms: 2,
    hostCpu: 0,
    hostMemory: 0,
    bootTimeout: 15_000,
    pullPolicy: 'if-not-present',
    pruneInterval: 0,
    pruneMaxAge: 0,
    pruneSpaceBudget: 0,
    ...over,
  };
}

/** Puts the fake tart first on PATH and gives each test its own TART_HOME, state dir and calls log. */
export function tartFixture(): TartFixture {
  if (!process.env.PATH?.startsWith(FAKE_TART_DIR)) process.env.PATH = `${FAKE_TART_DIR}:${process.env.PATH}`;
  const root = mkdtempSync(join(tmpdir(), 'tart-test-'));
  const home = join(root, 'tart-home');
  const stateDir = join(root, 'state');
  const runnerDir = join(root, 'actions-runner');
  const out = join(root, 'runner-out');
  for (const d of [home, stateDir, runnerDir, out]) mkdirSync(d, { recursive: true });
  writeFileSync(join(runnerDir, 'run.sh'), RUN_SH.replace('__OUT__', out));
  chmodSync(join(runnerDir, 'run.sh'), 0o755);
  // The calls log is outside TART_HOME so a call that lost TART_HOME is still recorded (with home null).
  process.env.FAKE_TART_CALLS = join(root, 'calls.jsonl');
  const tart = new FakeTart(home, process.env.FAKE_TART_CALLS);
  tart.tart('pull', IMAGE);

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const backends: RunnerBackend[] = [];
  const key = (jit: string) => jit.replace(/[^a-zA-Z0-9-]/g, '_');

  return {
    root,
    tart,
    stateDir,
    runnerDir,
    logs,
    backend(over = {}) {
      const {
        scaleSet = 'mac-ci',
        instanceId = 'inst-0001',
        image = IMAGE,
        stateDir: sd = stateDir,
        runnerNetwork,
        ...t
      } = over;
      const b = createTartBackend(
        {
          owner: { instanceId, scaleSet },
          logger,
          stateDir: sd,
          ...(runnerNetwork ? { runnerNetwork } : {}),
        },
        { image, tart: tartConfig(home, runnerDir, t) },
      );
      backends.push(b);
      return b;
    },
    runnerStarted: (jit) =>
      pollUntil(
        () => {
          const f = join(out, `started-${key(jit)}`);
          return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
        },
        { timeout: 20_000, what: `the guest runner for ${jit}` },
      ),
    runnerEnv: (jit) =>
      Object.fromEntries(
        readFileSync(join(out, `env-${key(jit)}`), 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      ),
    releaseRunner: (jit, code) => writeFileSync(join(out, `release-${key(jit)}`), String(code)),
    journal: (dir = stateDir) =>
      Object.assign(
        {},
        ...(existsSync(dir) ? readdirSync(dir) : [])
          .filter((f) => f.startsWith('tart-') && f.endsWith('.json'))
          .map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { vms: object }).vms),
      ),
    async cleanup() {
      await Promise.allSettled(backends.map((b) => b.close({ removeAll: true })));
      tart.killAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function spec(name: string, jit: string, runnerId = 1) {
  return { name, runnerId, jitConfig: new Secret(jit) };
}

/** Collects a backend's events from now on. */
export function collect(backend: RunnerBackend): { events: RunnerEvent[]; stop: () => void } {
  const ctl = new AbortController();
  const events: RunnerEvent[] = [];
  void (async () => {
    for await (const ev of backend.events(ctl.signal)) events.push(ev);
  })();
  return { events, stop: () => ctl.abort() };
}

export function waitFor<T>(fn: () => T | undefined | false, what: string, timeout = 20_000): Promise<T> {
  return pollUntil(fn, { timeout, interval: 25, what });
}
