import { randomBytes, randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  OwnedRunner,
  Owner,
  RunnerBackend,
  RunnerEvent,
  RunnerExitedEvent,
  RunnerSpec,
} from '../../backends/types.js';
import { makeRunnerName } from '../../src/labels.js';
import { Secret } from '../../src/secret.js';
import { pollUntil } from '../../src/util/poll-until.js';

/**
 * The contract of backends/types.ts as one suite every backend runs (like Nomad's DriverHarness). It
 * knows nothing about Docker, Tart or Dedalus: what a runner does is asked of the caller by behaviour.
 */

/** What the runner started by the next `start` must do. */
export type RunnerBehaviour =
  /** Stays up until removed. */
  | { kind: 'long-running' }
  /** Its process exits by itself after `afterMs` with `exitCode`. */
  | { kind: 'exits'; afterMs: number; exitCode: number }
  /** `start` must fail after the backend began creating the runner (e.g. a command that does not exist). */
  | { kind: 'fails-to-start' };

export interface BackendUnderTest {
  backend: RunnerBackend;
  /** Removes whatever the backend may have left, without going through it. Runs after each test. */
  cleanup(): Promise<void>;
}

/** Makes a backend for `owner` whose runners behave as `behaviour`; called several times per test. */
export type MakeBackend = (p: { owner: Owner; behaviour: RunnerBehaviour }) => Promise<BackendUnderTest>;

export interface ConformanceOptions {
  /** Bound on every wait in ms (default 30 s). */
  timeout?: number;
  /** Whether `exited` events carry the exit code (default true). */
  reportsExitCode?: boolean;
  /** For backends whose fakes read their behaviour from the spec (e.g. the JIT config). */
  spec?: (base: RunnerSpec, behaviour: RunnerBehaviour) => RunnerSpec;
}

export function makeOwner(scaleSet = 'conformance'): Owner {
  return { instanceId: `t-${randomBytes(5).toString('hex')}`, scaleSet };
}

export function makeSpec(owner: Owner): RunnerSpec {
  return {
    name: makeRunnerName(owner.scaleSet, owner.instanceId),
    runnerId: randomInt(1, 2 ** 31),
    jitConfig: new Secret(`jit-${randomBytes(24).toString('base64url')}`),
  };
}

/** The first `exited` event for `name`; fails when the stream ends first (its signal's deadline). */
export async function exitOf(events: AsyncIterable<RunnerEvent>, name: string): Promise<RunnerExitedEvent> {
  for await (const e of events) if (e.type === 'exited' && e.name === name) return e;
  throw new Error(`event stream ended before runner ${name} was reported exited`);
}

export function describeBackendConformance(
  name: string,
  makeBackend: MakeBackend,
  opts: ConformanceOptions = {},
) {
  const timeout = opts.timeout ?? 30_000;
  const made: BackendUnderTest[] = [];
  const make = async (owner: Owner, behaviour: RunnerBehaviour = { kind: 'long-running' }) => {
    const b = await makeBackend({ owner, behaviour });
    made.push(b);
    return b.backend;
  };
  const specFor = (owner: Owner, behaviour: RunnerBehaviour = { kind: 'long-running' }) =>
    opts.spec ? opts.spec(makeSpec(owner), behaviour) : makeSpec(owner);
  const names = async (b: RunnerBackend) =>
    (await b.listOwned(AbortSignal.timeout(timeout))).map((r) => r.name);
  const sig = () => AbortSignal.timeout(timeout);

  describe(`${name} backend conformance`, () => {
    afterEach(async () => {
      const all = made.splice(0).reverse();
      for (const b of all) await b.backend.close({ signal: sig() }).catch(() => {});
      for (const b of all) await b.cleanup();
    });

    it('start gives a handle and the runner is listed as owned, starting or running', async () => {
      const owner = makeOwner();
      const backend = await make(owner);
      await backend.prepare(sig());
      const spec = specFor(owner);
      const handle = await backend.start(spec, sig());
      expect(handle.name).toBe(spec.name);
      const listed = (await backend.listOwned(sig())).find((r) => r.name === spec.name);
      expect(listed).toMatchObject<Partial<OwnedRunner>>({ resourceId: handle.resourceId });
      expect(['starting', 'running']).toContain(listed?.state);
    });

    it('remove is idempotent: twice, and for a runner that never existed', async () => {
      const owner = makeOwner();
      const backend = await make(owner);
      const spec = specFor(owner);
      await backend.start(spec, sig());
      await backend.remove(spec.name, sig());
      await backend.remove(spec.name, sig());
      await backend.remove(makeSpec(owner).name, sig());
      expect(await names(backend)).not.toContain(spec.name);
    });

    it('a runner whose process exits is reported by events() as exited', async () => {
      const owner = makeOwner();
      const backend = await make(owner, { kind: 'exits', afterMs: 300, exitCode: 3 });
      const spec = specFor(owner, { kind: 'exits', afterMs: 300, exitCode: 3 });
      const exited = exitOf(backend.events(sig()), spec.name);
      const handle = await backend.start(spec, sig());
      const e = await exited;
      expect(e).toMatchObject({ type: 'exited', name: spec.name, resourceId: handle.resourceId });
      if (opts.reportsExitCode !== false) expect(e.exitCode).toBe(3);
      const listed = await pollUntil(
        async () =>
          (await backend.listOwned(sig())).find((r) => r.name === spec.name && r.state === 'exited'),
        { timeout, what: `${spec.name} listed as exited` },
      );
      if (opts.reportsExitCode !== false) expect(listed.exitCode).toBe(3);
    });

    it('an exit while nobody is subscribed reaches the next subscription', async () => {
      // The scaler re-subscribes after an error: a runner that exits in that gap must not wait for the
      // next reconcile to be noticed.
      const behaviour: RunnerBehaviour = { kind: 'exits', afterMs: 300, exitCode: 4 };
      const owner = makeOwner();
      const backend = await make(owner, behaviour);
      const first = specFor(owner, behaviour);
      const gap = specFor(owner, behaviour);

      const reading = new AbortController();
      const seen = exitOf(backend.events(AbortSignal.any([reading.signal, sig()])), first.name);
      await backend.start(first, sig());
      expect(await seen).toMatchObject({ type: 'exited', name: first.name });
      // exitOf returned out of its for-await loop, which ended the subscription; the abort says so twice.
      reading.abort();

      const handle = await backend.start(gap, sig());
      await pollUntil(
        async () => (await backend.listOwned(sig())).some((r) => r.name === gap.name && r.state === 'exited'),
        { timeout, what: `${gap.name} listed as exited while nobody is subscribed` },
      );
      const e = await exitOf(backend.events(sig()), gap.name);
      expect(e).toMatchObject({ type: 'exited', name: gap.name, resourceId: handle.resourceId });
      if (opts.reportsExitCode !== false) expect(e.exitCode).toBe(4);
    });

    it('events() ends when its signal aborts', async () => {
      const backend = await make(makeOwner());
      const ac = new AbortController();
      const done = (async () => {
        for await (const _ of backend.events(ac.signal)) {
          // only the end matters
        }
        return 'ended';
      })();
      ac.abort();
      await expect(done).resolves.toBe('ended');
    });

    it('a new backend with the same owner adopts the runners of the previous one', async () => {
      const owner = makeOwner();
      const first = await make(owner);
      const spec = specFor(owner);
      await first.start(spec, sig());
      await first.close({ signal: sig() });
      const second = await make(owner);
      expect(await names(second)).toContain(spec.name);
      await second.remove(spec.name, sig());
      expect(await names(second)).not.toContain(spec.name);
    });

    it('backends of another instance or scale set neither see nor remove the runners', async () => {
      const owner = makeOwner();
      const mine = await make(owner);
      const spec = specFor(owner);
      await mine.start(spec, sig());
      const strangers = [
        await make({ instanceId: makeOwner().instanceId, scaleSet: owner.scaleSet }),
        await make({ instanceId: owner.instanceId, scaleSet: `${owner.scaleSet}-other` }),
      ];
      for (const other of strangers) {
        expect(await names(other)).not.toContain(spec.name);
        await other.remove(spec.name, sig()).catch(() => {});
      }
      expect(await names(mine)).toContain(spec.name);
    });

    it('a failed start throws and leaves nothing behind', async () => {
      const owner = makeOwner();
      const backend = await make(owner, { kind: 'fails-to-start' });
      const spec = specFor(owner, { kind: 'fails-to-start' });
      await expect(backend.start(spec, sig())).rejects.toThrow();
      expect(await backend.listOwned(sig())).toEqual([]);
    });

    it('close keeps runners by default; close({removeAll}) leaves nothing and later starts fail', async () => {
      const owner = makeOwner();
      const first = await make(owner);
      const kept = specFor(owner);
      await first.start(kept, sig());
      await first.close({ signal: sig() });
      const second = await make(owner);
      await second.start(specFor(owner), sig());
      expect(await names(second)).toHaveLength(2);
      await second.close({ removeAll: true, signal: sig() });
      const third = await make(owner);
      expect(await third.listOwned(sig())).toEqual([]);
      await expect(second.start(specFor(owner), sig())).rejects.toThrow();
    });
  });
}
