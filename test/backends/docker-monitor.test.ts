import { describe, expect, it } from 'vitest';
import type { EngineSize } from '../../backends/docker/call.js';
import { DockerBackendError } from '../../backends/docker/errors.js';
import { HostLedger } from '../../backends/docker/fleet/budget.js';
import { type HostHealth, HostMonitor, type HostProbe } from '../../backends/docker/fleet/monitor.js';
import type { HostState } from '../../backends/docker/fleet/placement.js';
import { Pulse } from '../../src/util/pulse.js';
import { ManualClock } from '../support/manual-clock.js';

const GIB = 1024 ** 3;

/** A ping the test answers or fails by hand. */
interface PendingPing {
  signal: AbortSignal;
  answer(): void;
  fail(err: Error): void;
}

/** An engine the test drives: each ping waits until the test says how it ends. */
class FakeEngine {
  size: EngineSize = { cpus: 8, memory: 32 * GIB };
  pings = 0;
  /** `docker info` calls (the engine's size). */
  sizes = 0;
  readonly #pending: PendingPing[] = [];
  readonly #arrived = new Pulse();

  ping(signal: AbortSignal): Promise<unknown> {
    this.pings++;
    return new Promise((resolve, reject) => {
      const ping = { signal, answer: () => resolve('OK'), fail: reject };
      this.#pending.push(ping);
      signal.addEventListener('abort', () => {
        const i = this.#pending.indexOf(ping);
        if (i >= 0) this.#pending.splice(i, 1);
        reject(signal.reason);
      });
      this.#arrived.fire();
    });
  }

  engineSize(): Promise<EngineSize> {
    this.sizes++;
    return Promise.resolve(this.size);
  }

  explain(err: unknown): DockerBackendError | undefined {
    return (err as { code?: string }).code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'
      ? new DockerBackendError('DOCKER_TLS', 'the engine refused the client certificate in tls-cert')
      : undefined;
  }

  /** The next ping the monitor sends (waits for it). */
  async nextPing(): Promise<PendingPing> {
    for (;;) {
      const p = this.#pending.shift();
      if (p) return p;
      await this.#arrived.wait(AbortSignal.timeout(5_000));
      if (this.#pending.length === 0) throw new Error('no ping arrived');
    }
  }

  get waiting(): number {
    return this.#pending.length;
  }
}

function setup(opts: { downAfter?: number } = {}) {
  const clock = new ManualClock();
  const ledger = new HostLedger();
  ledger.addHost('tcp://b:2376', { name: 'b', maxRunners: 4 });
  const engine = new FakeEngine();
  const probe: HostProbe = {
    ping: (s) => engine.ping(s),
    size: () => engine.engineSize(),
    explain: (e) => engine.explain(e),
  };
  const monitor = new HostMonitor('tcp://b:2376', probe, ledger, {
    clock,
    everyMs: 5_000,
    timeoutMs: 10_000,
    downAfter: opts.downAfter ?? 2,
    retry: { initial: 1_000, max: 8_000 },
  });
  const changes: [HostState, HostState, string | undefined][] = [];
  monitor.onChange((now: HostHealth, previous) => changes.push([previous, now.state, now.error]));
  /** Ends the pending ping as `how` and waits until the monitor has taken the outcome in. */
  const settle = async (how: 'answer' | Error) => {
    const ping = await engine.nextPing();
    const outcome = monitor.nextOutcome(AbortSignal.timeout(5_000));
    if (how === 'answer') ping.answer();
    else ping.fail(how);
    return outcome;
  };
  return { clock, ledger, engine, monitor, changes, settle };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 10.0.0.2:2376'), { code: 'ECONNREFUSED' });

describe('Docker host health', () => {
  it('a host that answers joins the book as up, with the engine size for the budget the config left out', async () => {
    const { monitor, ledger, changes, settle, engine } = setup();
    expect(ledger.host('tcp://b:2376')?.state).toBe('joining');
    monitor.acquire();
    const settled = monitor.settled(AbortSignal.timeout(5_000));
    await settle('answer');
    await settled;
    expect(monitor.health.state).toBe('up');
    expect(changes).toEqual([['joining', 'up', undefined]]);
    expect(ledger.host('tcp://b:2376')).toMatchObject({
      state: 'up',
      budget: { count: 4, cpus: 8, memory: 32 * GIB },
    });
    expect(engine.pings).toBe(1);
  });

  it('pings on a timer while up; two misses in a row make it down; an answer brings it back', async () => {
    const { monitor, ledger, clock, changes, settle, engine } = setup();
    monitor.acquire();
    await settle('answer');
    // Nothing before the interval is over, one ping when it is.
    clock.advance(4_999);
    expect(engine.waiting).toBe(0);
    clock.advance(1);
    const first = await settle(refused());
    // One miss is not down yet: retried soon (the backoff's first wait), not at the next interval.
    expect(first.state).toBe('up');
    expect(first.failures).toBe(1);
    clock.advance(999);
    expect(engine.waiting).toBe(0);
    clock.advance(1);
    const second = await settle(refused());
    expect(second).toMatchObject({ state: 'down', error: 'connect ECONNREFUSED 10.0.0.2:2376' });
    expect(ledger.host('tcp://b:2376')?.state).toBe('down');
    // While down the waits grow (2 s, then 4 s) until the host answers.
    clock.advance(2_000);
    await settle(refused());
    clock.advance(3_999);
    expect(engine.waiting).toBe(0);
    clock.advance(1);
    const back = await settle('answer');
    expect(back).toEqual({ state: 'up', failures: 0 });
    expect(ledger.host('tcp://b:2376')?.state).toBe('up');
    expect(changes.map(([from, to]) => `${from}→${to}`)).toEqual(['joining→up', 'up→down', 'down→up']);
    // Back up: the interval again, and the backoff starts over at the next outage.
    clock.advance(5_000);
    await settle(refused());
    clock.advance(1_000);
    expect(engine.waiting).toBe(1);
  });

  it("reads an up host's size only every sizeEveryMs, and again on every return to up", async () => {
    const { monitor, ledger, clock, settle, engine } = setup();
    monitor.acquire();
    await settle('answer');
    expect(engine.sizes).toBe(1);
    // Pings every 5 s; the size (the costlier call) is not read again within 5 minutes.
    for (let i = 0; i < 59; i++) {
      clock.advance(5_000);
      await settle('answer');
    }
    expect(engine.pings).toBe(60);
    expect(engine.sizes).toBe(1);
    clock.advance(5_000);
    engine.size = { cpus: 16, memory: 64 * GIB };
    await settle('answer');
    expect(engine.sizes).toBe(2);
    expect(ledger.host('tcp://b:2376')?.budget).toMatchObject({ cpus: 16, memory: 64 * GIB });
    // Down and back: the engine that answers may be another machine, so its size is read at once.
    clock.advance(5_000);
    await settle(refused());
    clock.advance(1_000);
    await settle(refused());
    expect(monitor.health.state).toBe('down');
    engine.size = { cpus: 4, memory: 8 * GIB };
    clock.advance(2_000);
    await settle('answer');
    expect(engine.sizes).toBe(3);
    expect(ledger.host('tcp://b:2376')?.budget).toMatchObject({ cpus: 4, memory: 8 * GIB });
  });

  it('a host that does not answer at start stays joining, says why, and joins when it answers', async () => {
    const { monitor, ledger, clock, changes, settle } = setup();
    monitor.acquire();
    const settled = monitor.settled(AbortSignal.timeout(5_000));
    const first = await settle(refused());
    await settled;
    expect(first).toMatchObject({ state: 'joining', error: 'connect ECONNREFUSED 10.0.0.2:2376' });
    // The same error again is not news; the join is.
    clock.advance(1_000);
    await settle(refused());
    clock.advance(2_000);
    await settle('answer');
    expect(changes).toEqual([
      ['joining', 'joining', 'connect ECONNREFUSED 10.0.0.2:2376'],
      ['joining', 'up', undefined],
    ]);
    expect(ledger.host('tcp://b:2376')?.state).toBe('up');
  });

  it('a TLS failure is a problem a file fixes, and takes an up host down at the first miss', async () => {
    const { monitor, clock, settle } = setup({ downAfter: 3 });
    monitor.acquire();
    await settle('answer');
    clock.advance(5_000);
    const tls = Object.assign(new Error('sslv3 alert bad certificate'), {
      code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
    });
    const health = await settle(tls);
    expect(health.state).toBe('down');
    expect(health.problem?.code).toBe('DOCKER_TLS');
    expect(health.error).toBe('the engine refused the client certificate in tls-cert');
  });

  it('a ping held past its deadline is a miss, and the next one goes out while the engine still holds it', async () => {
    const { monitor, clock, settle, engine } = setup();
    monitor.acquire();
    await settle('answer');
    clock.advance(5_000);
    const held = await engine.nextPing();
    const missed = monitor.nextOutcome(AbortSignal.timeout(5_000));
    clock.advance(10_000);
    expect(await missed).toMatchObject({
      state: 'up',
      failures: 1,
      error: 'no answer from the Docker engine within 10s',
    });
    clock.advance(1_000);
    await settle(new Error('connection reset'));
    expect(monitor.health.state).toBe('down');
    // The first ping was never given up by the monitor: the engine may still answer it (ignored).
    expect(held.signal.aborted).toBe(false);
    held.answer();
    expect(monitor.health.state).toBe('down');
  });

  it('check() pings at once instead of at the next timer, and once more after a ping under way', async () => {
    const { monitor, clock, settle, engine } = setup();
    monitor.acquire();
    await settle('answer');
    monitor.check();
    const now = await engine.nextPing();
    // A second kick while that ping is out: it may have left before what prompted the kick.
    monitor.check();
    const outcome = monitor.nextOutcome(AbortSignal.timeout(5_000));
    now.answer();
    await outcome;
    clock.advance(0);
    await settle('answer');
    expect(engine.pings).toBe(3);
  });

  it('pings only while someone uses the host, and an outstanding ping is given up at the last release', async () => {
    const { monitor, clock, settle, engine } = setup();
    const a = monitor.acquire();
    const b = monitor.acquire();
    await settle('answer');
    a();
    clock.advance(5_000);
    const ping = await engine.nextPing();
    b();
    expect(ping.signal.aborted).toBe(true);
    clock.advance(60_000);
    expect(engine.waiting).toBe(0);
    expect(clock.pending).toBe(0);
    // A new user starts it again.
    monitor.acquire();
    expect(engine.waiting).toBe(1);
  });
});
