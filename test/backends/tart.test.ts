import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TartCli, TIMEOUTS } from '../../backends/tart/cli.js';
import { macFor } from '../../backends/tart/mac.js';
import { tartBackend } from '../../backends/tart/module.js';
import { pruneArgs } from '../../backends/tart/prune.js';
import { makeRunnerName } from '../../src/labels.js';
import { pollUntil } from '../../src/util/poll-until.js';
import {
  collect,
  IMAGE,
  spec,
  type TartFixture,
  tartConfig,
  tartFixture,
  waitFor,
} from '../fakes/tart/fixture.js';
import type { TartCall } from '../fakes/tart/index.js';

let fx: TartFixture;
beforeEach(() => {
  fx = tartFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const signal = () => AbortSignal.timeout(30_000);
const runnerName = (suffix: string) => makeRunnerName('mac-ci', 'inst-0001', suffix);

/**
 * The calls minus readiness probes (`exec <vm> true`, repeated while the VM boots). Probes race the
 * `run` child's start, so their position is checked apart: the one that succeeded came after `run`.
 */
function sequence(calls: TartCall[]): string[] {
  const isProbe = (c: TartCall) => c.argv.length === 3 && c.argv[0] === 'exec' && c.argv[2] === 'true';
  const run = calls.find((c) => c.argv[0] === 'run');
  const probes = calls.filter(isProbe);
  if (run && probes.length > 0) expect(probes.at(-1)!.t).toBeGreaterThanOrEqual(run.t);
  return calls.filter((c) => !isProbe(c)).map((c) => c.argv.join(' '));
}

function shortExec(c: string): string {
  if (c.startsWith('exec -i '))
    return c.replace(/ sh -c [\s\S]* runner-start (.*)$/, ' sh -c <start> runner-start $1');
  if (c.includes('runner-watch'))
    return c.replace(/ sh -c [\s\S]* runner-watch$/, ' sh -c <watch> runner-watch');
  return c;
}

describe('Tart backend: cold start and removal', () => {
  it('issues exactly clone, set, run, probe, start (JIT on stdin), watch; then stop and delete', async () => {
    const backend = fx.backend({ cpu: 6, memory: 16384 });
    const name = runnerName('0000aaaa');
    const jit = 'jit-cold-SECRET-0123456789';
    const handle = await backend.start(spec(name, jit), signal());
    expect(handle).toEqual({ name, resourceId: name, tier: 'cold' });
    expect(await fx.runnerStarted(jit)).toBe(jit);
    await waitFor(() => fx.tart.commands().some((c) => c.includes('runner-watch')), 'the watcher exec');

    expect(sequence(fx.tart.calls()).map(shortExec)).toEqual([
      'list --format json', // adoption, once per backend before its first start
      `clone ${IMAGE} ${name}`,
      `set ${name} --cpu 6 --memory 16384`,
      `run ${name} --no-graphics`,
      `exec -i ${name} sh -c <start> runner-start ${fx.runnerDir}`,
      `exec ${name} sh -c <watch> runner-watch`,
    ]);
    const vm = fx.tart.vms().find((v) => v.name === name);
    expect(vm).toMatchObject({ running: true, mac: macFor('inst-0001', 0) });

    const before = fx.tart.calls().length;
    await backend.remove(name, signal());
    expect(fx.tart.commands().slice(before)).toEqual([`stop ${name} --timeout 5`, `delete ${name}`]);
    expect(fx.tart.vms()).toEqual([]);
    await backend.remove(name, signal()); // idempotent
    expect(await backend.listOwned(signal())).toEqual([]);
  });

  it('never puts the JIT config on a command line, in a log line or on the guest disk', async () => {
    const backend = fx.backend();
    const jit = 'jit-secret-NEVER-IN-ARGV-42';
    await backend.start(spec(runnerName('0000bbbb'), jit), signal());
    expect(await fx.runnerStarted(jit)).toBe(jit);
    for (const call of fx.tart.calls()) expect(call.argv.join(' ')).not.toContain(jit);
    // Every live process, guest ones included (the fake runs them on this host).
    if (existsSync('/proc/self/cmdline')) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        let cmdline = '';
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue; // the process ended while we looked
        }
        expect(cmdline).not.toContain(jit);
      }
    }
    const guestTmp = join(fx.tart.home, 'vms', runnerName('0000bbbb'), '.fake-guest', 'tmp', 'runner-job');
    for (const f of readdirSync(guestTmp)) expect(readFileSync(join(guestTmp, f), 'utf8')).not.toContain(jit);
    expect(fx.logs.join('')).not.toContain(jit);
  });

  it('passes [tart] home as TART_HOME to every call, whatever the environment says', async () => {
    process.env.TART_HOME = join(fx.root, 'somewhere-else');
    try {
      const backend = fx.backend({ pruneInterval: 3_600_000, pruneMaxAge: 7 * 86_400_000 });
      await backend.prepare(signal());
      const name = runnerName('0000cccc');
      await backend.start(spec(name, 'jit-home-1'), signal());
      await backend.remove(name, signal());
      const calls = fx.tart.calls();
      expect(calls.map((c) => c.argv[0])).toEqual(
        expect.arrayContaining(['list', 'prune', 'clone', 'run', 'exec', 'stop', 'delete']),
      );
      for (const c of calls) expect(c.home).toBe(fx.tart.home);
    } finally {
      delete process.env.TART_HOME;
    }
  });

  it('reports the runner exit with its code, and the VM death of another as vm stopped', async () => {
    const backend = fx.backend();
    const { events } = collect(backend);
    const [a, b] = [runnerName('0000dd01'), runnerName('0000dd02')];
    await backend.start(spec(a, 'jit-exit-a'), signal());
    await backend.start(spec(b, 'jit-exit-b'), signal());
    await fx.runnerStarted('jit-exit-a');
    fx.releaseRunner('jit-exit-a', 3);
    const exited = await waitFor(() => events.find((e) => e.name === a), 'exited event of a');
    expect(exited).toMatchObject({ type: 'exited', resourceId: a, exitCode: 3, reason: 'runner exited' });

    fx.tart.killVm(b);
    const died = await waitFor(() => events.find((e) => e.name === b), 'exited event of b');
    expect(died.exitCode).toBeUndefined();
    expect(died.reason).toMatch(/vm stopped/);
    expect(events).toHaveLength(2);
  });

  it('does not report an exit for a runner it was asked to remove', async () => {
    const backend = fx.backend();
    const { events } = collect(backend);
    const name = runnerName('0000ee01');
    await backend.start(spec(name, 'jit-removed'), signal());
    await backend.remove(name, signal());
    const other = runnerName('0000ee02');
    await backend.start(spec(other, 'jit-after'), signal());
    fx.releaseRunner('jit-after', 0);
    await waitFor(() => events.find((e) => e.name === other), 'exited event of the second runner');
    expect(events.map((e) => e.name)).toEqual([other]);
  });
});

describe('Tart backend: failures leave nothing behind', () => {
  it('deletes the clone when tart set fails, and frees its host slot', async () => {
    const backend = fx.backend({ cpu: 8, maxVms: 1 });
    const name = runnerName('0000ff01');
    fx.tart.setFaults({ FAIL_SET: 1 });
    await expect(backend.start(spec(name, 'jit-set-fails'), signal())).rejects.toThrow(
      /tart set .* exited 1/,
    );
    expect(sequence(fx.tart.calls())).toEqual([
      'list --format json',
      `clone ${IMAGE} ${name}`,
      `set ${name} --cpu 8`,
      `stop ${name} --timeout 5`,
      `delete ${name}`,
    ]);
    expect(fx.tart.vms()).toEqual([]);
    fx.tart.setFaults({});
    const again = runnerName('0000ff02');
    await expect(backend.start(spec(again, 'jit-set-ok'), signal())).resolves.toMatchObject({ tier: 'cold' });
  });

  it('deletes the VM when the guest agent never answers within boot-timeout', async () => {
    const backend = fx.backend({ bootTimeout: 1_000 });
    fx.tart.setFaults({ NO_AGENT: 1 });
    const err = await backend
      .start(spec(runnerName('0000ff03'), 'jit-no-agent'), signal())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TART_BOOT_FAILED' });
    // The last answer seen is the agent's refusal, or (on a loaded machine, where the fake VM process
    // takes longer than boot-timeout to come up) that the VM is not running yet: both say why.
    expect(String((err as Error).message)).toMatch(
      /did not boot: timed out after 1000 ms waiting for the guest agent of VM \S+ \(last seen: tart exec \S+ exited \d+: (.*Guest Agent|VM "\S+" is not running)/s,
    );
    expect(fx.tart.vms()).toEqual([]);
  });

  it('fails fast when the VM dies during boot', async () => {
    const backend = fx.backend({ bootTimeout: 60_000 });
    fx.tart.setFaults({ BOOT_MS: 60_000, RUN_EXIT_MS: 200 });
    const started = Date.now();
    const err = await backend
      .start(spec(runnerName('0000ff04'), 'jit-crash'), signal())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TART_BOOT_FAILED' });
    expect(String((err as Error).message)).toMatch(/tart run exited 1 during boot: .*crashed/s);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fx.tart.vms()).toEqual([]);
  });

  it('deletes the VM when run.sh is missing from runner-dir', async () => {
    const backend = fx.backend({ runnerDir: join(fx.root, 'no-such-dir') });
    await expect(backend.start(spec(runnerName('0000ff05'), 'jit-no-runner'), signal())).rejects.toThrow(
      /no executable run.sh in .*no-such-dir/,
    );
    expect(fx.tart.vms()).toEqual([]);
    expect(await backend.listOwned(signal())).toEqual([]);
  });
});

describe('Tart backend: starts in flight', () => {
  it('close() aborts a cold boot in flight within seconds and deletes its VM', async () => {
    fx.tart.setFaults({ BOOT_MS: 60_000 });
    const backend = fx.backend({ bootTimeout: 60_000 });
    const starting = backend
      .start(spec(runnerName('0000ab01'), 'jit-closing'), signal())
      .catch((e: unknown) => e);
    await waitFor(() => fx.tart.vms().some((v) => v.running), 'the VM to be booting');
    const began = Date.now();
    await backend.close();
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(await starting).toBeInstanceOf(Error);
    expect(fx.tart.vms()).toEqual([]);
    await expect(backend.start(spec(runnerName('0000ab02'), 'jit-late'), signal())).rejects.toThrow(/closed/);
  });

  it('remove() of a runner still starting aborts the start and deletes its VM', async () => {
    fx.tart.setFaults({ BOOT_MS: 60_000 });
    const backend = fx.backend({ bootTimeout: 60_000 });
    const name = runnerName('0000ab03');
    const starting = backend.start(spec(name, 'jit-removed-early'), signal()).catch((e: unknown) => e);
    await waitFor(() => fx.tart.vms().some((v) => v.running), 'the VM to be booting');
    await backend.remove(name, signal());
    expect(String(await starting)).toMatch(/removed while starting/);
    expect(fx.tart.vms()).toEqual([]);
    expect(await backend.listOwned(signal())).toEqual([]);
  });
});

describe('Tart backend: a tart that never answers', () => {
  it('is silent from the call tart does not answer until a call is answered', async () => {
    const b = fx.backend();
    fx.tart.setFaults({ HANG: 'list' });
    const sentAfter = Date.now();
    const hung = new AbortController();
    const listing = b.listOwned(hung.signal).catch(() => []);
    const silence = await pollUntil(() => b.silence?.(), { timeout: 10_000, what: 'silence' });
    expect(silence.since).toBeGreaterThanOrEqual(sentAfter - 5);

    fx.tart.setFaults({});
    await b.listOwned(signal());
    expect(b.silence?.()).toBeUndefined();
    // The hung call is cancelled (its tart killed), which says nothing about tart either way.
    hung.abort();
    await listing;
    expect(b.silence?.()).toBeUndefined();
  });

  it('a failing command is an answer; one that runs past its deadline is not', async () => {
    const cli = new TartCli('tart', fx.tart.home);
    fx.tart.setFaults({ HANG: 'get' });
    const timedOut = await cli.attempt(['get', 'vm'], { timeout: 300 });
    expect(timedOut.ok).toBe(false);
    expect(cli.answers.silence()?.lastError).toMatch(/^tart get timed out after 300 ms/);
    fx.tart.setFaults({});
    const missing = await cli.attempt(['delete', 'no-such-vm'], { timeout: TIMEOUTS.quick });
    expect(missing.ok).toBe(false);
    expect(cli.answers.silence()).toBeUndefined();
  });
});

describe('Tart backend: image and cache', () => {
  it('pulls only when the exact image is missing (if-not-present), never on a substring match', async () => {
    fx.tart.tart('pull', 'ghcr.io/acme/other:15.1');
    const exact = fx.backend({ image: IMAGE });
    await exact.prepare(signal());
    // image check, then adoption: no pull
    expect(fx.tart.commands()).toEqual(['list --format json', 'list --format json']);

    // `macos-runner:1` is a prefix of the present `macos-runner:15`: still missing.
    const missing = fx.backend({ image: 'ghcr.io/acme/macos-runner:1', scaleSet: 'other' });
    await missing.prepare(signal());
    expect(fx.tart.commands().slice(2)).toEqual([
      'list --format json',
      'pull ghcr.io/acme/macos-runner:1',
      'list --format json',
    ]);
  });

  it('never pulls with pull-policy never, and always pulls with always', async () => {
    const never = fx.backend({ image: 'ghcr.io/acme/absent:1', pullPolicy: 'never' });
    await expect(never.prepare(signal())).rejects.toMatchObject({ code: 'TART_IMAGE_UNAVAILABLE' });
    expect(fx.tart.commands()).toEqual(['list --format json']);
    const always = fx.backend({ pullPolicy: 'always', scaleSet: 'always' });
    await always.prepare(signal());
    expect(fx.tart.commands().slice(1)).toEqual([`pull ${IMAGE}`, 'list --format json']);
  });

  it('runner validate and a start agree on the image: one listing and one name match', async () => {
    fx.tart.tart('pull', 'ghcr.io/acme/plain'); // listed by tart as ghcr.io/acme/plain:latest
    const cases = [
      [IMAGE, 'ok'],
      ['ghcr.io/acme/plain', 'ok'], // untagged means :latest, for both
      ['ghcr.io/acme/macos-runner:1', 'fail'], // a prefix of the present :15 is not it
      ['base-vm', 'fail'], // a local VM that does not exist
    ] as const;
    for (const [i, [image, expected]] of cases.entries()) {
      const config = tartConfig(fx.tart.home, fx.runnerDir, { pullPolicy: 'never' });
      const rows = await tartBackend.validate(
        { scaleSet: 'mac-ci', runnerImage: image, config },
        { timeoutMs: 10_000, env: process.env },
      );
      const validated = rows.find((r) => r.id === 'runner-image')?.status;
      // pull-policy "never": prepare() resolves exactly when the image is in TART_HOME.
      const backend = fx.backend({ image, pullPolicy: 'never', scaleSet: `agree-${i}` });
      const started = await backend.prepare(signal()).then(
        () => 'ok',
        (err: { code?: string }) => (err.code === 'TART_IMAGE_UNAVAILABLE' ? 'fail' : `error ${err.code}`),
      );
      expect({ image, validated, started }).toEqual({ image, validated: expected, started: expected });
    }
    expect(fx.tart.commands().filter((c) => c.startsWith('pull'))).toEqual([]);
  });

  it('prunes caches once per TART_HOME, however many scale sets share it', async () => {
    const prune = { pruneInterval: 3_600_000, pruneMaxAge: 7 * 86_400_000, pruneSpaceBudget: 50 * 1024 ** 3 };
    const a = fx.backend({ ...prune, scaleSet: 'set-a' });
    const b = fx.backend({ ...prune, scaleSet: 'set-b' });
    await Promise.all([a.prepare(signal()), b.prepare(signal())]);
    await waitFor(
      () => fx.tart.commands().includes('prune --entries caches --older-than 7 --space-budget 50'),
      'prune',
    );
    await a.close();
    await b.close();
    expect(fx.tart.commands().filter((c) => c.startsWith('prune'))).toHaveLength(1);
  });

  it('rounds prune criteria to what tart accepts', () => {
    expect(pruneArgs({ pruneMaxAge: 3_600_000, pruneSpaceBudget: 0 })).toEqual([
      'prune',
      '--entries',
      'caches',
      '--older-than',
      '1',
    ]);
    expect(pruneArgs({ pruneMaxAge: 0, pruneSpaceBudget: 10 })).toEqual([
      'prune',
      '--entries',
      'caches',
      '--space-budget',
      '1',
    ]);
    expect(pruneArgs({ pruneMaxAge: 0, pruneSpaceBudget: 0 })).toBeUndefined();
  });
});
