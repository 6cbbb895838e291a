import { describe, expect, it } from 'vitest';
import { HostLedger, type HostScope, type HostSpec } from '../../backends/docker/fleet/budget.js';
import {
  describeRefusal,
  type HostView,
  neverFits,
  place,
  type Refusal,
} from '../../backends/docker/fleet/placement.js';

const GIB = 1024 ** 3;
const RUNNER = { cpus: 2, memory: 4 * GIB };

/** A ledger with `hosts` added and up. */
function ledgerOf(...hosts: HostSpec[]): HostLedger {
  const ledger = new HostLedger();
  for (const h of hosts) {
    ledger.addHost(h.name, h);
    ledger.setState(h.name, 'up');
  }
  return ledger;
}

/** Places `n` runners named r0…, returning the host of each. */
function burst(ledger: HostLedger, n: number, demand = RUNNER, prefix = 'r'): (string | undefined)[] {
  return Array.from({ length: n }, (_, i) => {
    const p = ledger.place(`${prefix}${i}`, demand);
    return p.placed ? p.host : undefined;
  });
}

const up = (
  name: string,
  budget: Partial<HostView['budget']>,
  used = { count: 0, cpus: 0, memory: 0 },
): HostView => ({
  name,
  state: 'up',
  cordoned: false,
  budget: { count: 'unlimited', cpus: 16, memory: 64 * GIB, ...budget },
  used,
});

describe('placement', () => {
  it('spreads runners over identical hosts round-robin', () => {
    const ledger = ledgerOf(
      { name: 'a', cpus: 16, memory: 64 * GIB },
      { name: 'b', cpus: 16, memory: 64 * GIB },
      { name: 'c', cpus: 16, memory: 64 * GIB },
    );
    expect(burst(ledger, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('gives a big host proportionally more runners and fills every host before refusing', () => {
    const ledger = ledgerOf(
      { name: 'big', cpus: 16, memory: 64 * GIB },
      { name: 'small', cpus: 4, memory: 64 * GIB },
    );
    const hosts = burst(ledger, 11);
    expect(hosts.slice(0, 10).filter((h) => h === 'big')).toHaveLength(8);
    expect(hosts.slice(0, 10).filter((h) => h === 'small')).toHaveLength(2);
    // The small host is not left empty while the big one fills: it gets a runner among the first four.
    expect(hosts.slice(0, 4)).toContain('small');
    expect(hosts[10]).toBeUndefined();
    expect(ledger.hosts().map((h) => [h.name, h.used.cpus])).toEqual([
      ['big', 16],
      ['small', 4],
    ]);
  });

  it('judges a host by its scarcest dimension: a runner cap counts like a CPU budget', () => {
    // a: 2 runners at most (half used after one); b: no cap, 8 CPUs (7/8 free after one runner of 1 CPU).
    const ledger = ledgerOf(
      { name: 'a', maxRunners: 2, cpus: 64, memory: 64 * GIB },
      { name: 'b', cpus: 8, memory: 64 * GIB },
    );
    expect(burst(ledger, 3, { cpus: 1, memory: GIB })).toEqual(['b', 'b', 'b']);
    // Fourth: both scarcest at 1/2 after placing (a: 1 of 2 runners left; b: 4 of 8 CPUs); the next
    // scarcest decides: a's CPUs (63/64) beat b's memory (60/64). Fifth: a would be at 0 runners left.
    expect(burst(ledger, 2, { cpus: 1, memory: GIB }, 's')).toEqual(['a', 'b']);
  });

  it('compares the next scarcest dimension when the scarcest are equal', () => {
    // Both hosts are at the same count fraction after placing; b has more memory left.
    const hosts = [
      up('a', { count: 4, memory: 8 * GIB }, { count: 1, cpus: 0, memory: 4 * GIB }),
      up('b', { count: 4, memory: 8 * GIB }, { count: 1, cpus: 0, memory: 2 * GIB }),
    ];
    expect(place(hosts, { cpus: 1, memory: GIB }, 0)).toMatchObject({ placed: true, host: 'b' });
  });

  it('never places on a host that is down, joining or cordoned, or whose size is not known yet', () => {
    const ledger = new HostLedger();
    ledger.addHost('tcp://a', { name: 'a', cpus: 16, memory: 64 * GIB });
    ledger.addHost('tcp://b', { name: 'b', cpus: 16, memory: 64 * GIB });
    ledger.addHost('tcp://c', { name: 'c', cpus: 16, memory: 64 * GIB });
    ledger.addHost('tcp://d', { name: 'd', maxRunners: 4 });
    ledger.setState('tcp://a', 'down');
    ledger.setState('tcp://c', 'up');
    ledger.setCordoned('tcp://c', true);
    ledger.setState('tcp://d', 'up');
    const answer = ledger.place('r1', RUNNER);
    expect(answer).toEqual({
      placed: false,
      refusals: [
        { host: 'a', reason: 'down' },
        { host: 'b', reason: 'joining' },
        { host: 'c', reason: 'cordoned' },
        { host: 'd', reason: 'budget-unknown', dimension: 'cpus' },
      ],
    });
    if (answer.placed) return;
    expect(answer.refusals.map(describeRefusal)).toEqual([
      'a: down',
      'b: joining (not ready yet)',
      'c: cordoned',
      'd: cpus budget not known yet (the engine has not reported its size)',
    ]);
    // The engine's size arrives: d takes the runner; its written cap stays.
    ledger.reportSize('tcp://d', { cpus: 8, memory: 32 * GIB });
    expect(ledger.place('r1', RUNNER)).toMatchObject({ placed: true, host: 'd' });
    expect(ledger.host('tcp://d')?.budget).toEqual({ count: 4, cpus: 8, memory: 32 * GIB });
  });

  it('keeps a written budget when the engine reports its size', () => {
    const ledger = ledgerOf({ name: 'a', cpus: 4 });
    ledger.reportSize('a', { cpus: 32, memory: 128 * GIB });
    expect(ledger.host('a')?.budget).toEqual({ count: 'unlimited', cpus: 4, memory: 128 * GIB });
  });

  it('says which dimension is full, and when a runner can never fit', () => {
    const ledger = ledgerOf(
      { name: 'a', maxRunners: 1, cpus: 16, memory: 64 * GIB },
      { name: 'b', cpus: 2, memory: 64 * GIB },
    );
    ledger.adopt('a', 'r0', RUNNER); // a: its one runner
    ledger.adopt('b', 'x', { cpus: 1, memory: GIB }); // b: 1 of 2 CPUs
    const full = ledger.place('y', RUNNER);
    expect(full).toEqual({
      placed: false,
      refusals: [
        { host: 'a', reason: 'full', dimension: 'count', used: 1, budget: 1, need: 1 },
        { host: 'b', reason: 'full', dimension: 'cpus', used: 1, budget: 2, need: 2 },
      ],
    });
    if (full.placed) return;
    expect(full.refusals.map(describeRefusal)).toEqual([
      'a: count full (1 of 1 in use, 1 needed)',
      'b: cpus full (1 CPU of 2 CPUs in use, 2 CPUs needed)',
    ]);
    expect(neverFits(full.refusals)).toBe(false);
    const huge = ledgerOf({ name: 'h', cpus: 16, memory: 8 * GIB }).place('z', { cpus: 1, memory: 16 * GIB });
    expect(huge).toEqual({
      placed: false,
      refusals: [
        { host: 'h', reason: 'too-small', dimension: 'memory', used: 0, budget: 8 * GIB, need: 16 * GIB },
      ],
    });
    if (huge.placed) return;
    expect(neverFits(huge.refusals)).toBe(true);
    expect(describeRefusal(huge.refusals[0] as Refusal)).toBe(
      'h: one runner needs 16GiB, more than its whole memory budget (8GiB)',
    );
  });

  it('counts fractions of CPUs exactly: ten runners of 0.1 CPU fill a budget of 1', () => {
    const ledger = ledgerOf({ name: 'a', cpus: 1, memory: 64 * GIB });
    const hosts = burst(ledger, 11, { cpus: 0.1, memory: 0 });
    expect(hosts.filter((h) => h === 'a')).toHaveLength(10);
    expect(hosts[10]).toBeUndefined();
    for (let i = 0; i < 10; i++) ledger.release(`r${i}`);
    expect(ledger.host('a')?.used).toEqual({ count: 0, cpus: 0, memory: 0 });
  });

  it('gives the last slot to one of two scale sets starting at once', async () => {
    const ledger = ledgerOf({ name: 'a', maxRunners: 1, cpus: 16, memory: 64 * GIB });
    const [first, second] = await Promise.all([
      Promise.resolve().then(() => ledger.place('linux-a-1', RUNNER)),
      Promise.resolve().then(() => ledger.place('linux-b-1', RUNNER)),
    ]);
    expect([first?.placed, second?.placed].sort()).toEqual([false, true]);
    expect(ledger.host('a')?.used.count).toBe(1);
  });

  it('answers a runner placed twice with where it is, counting it once', () => {
    const ledger = ledgerOf(
      { name: 'a', cpus: 16, memory: 64 * GIB },
      { name: 'b', cpus: 16, memory: 64 * GIB },
    );
    expect(ledger.place('r', RUNNER)).toMatchObject({ placed: true, host: 'a' });
    expect(ledger.place('r', RUNNER)).toMatchObject({ placed: true, host: 'a' });
    expect(ledger.hosts().map((h) => h.used.count)).toEqual([1, 0]);
  });

  it('counts adopted runners once, over budget if they are there, and moves one seen elsewhere', () => {
    const ledger = ledgerOf(
      { name: 'a', maxRunners: 1, cpus: 16, memory: 64 * GIB },
      { name: 'b', cpus: 16, memory: 64 * GIB },
    );
    ledger.setState('a', 'down');
    ledger.adopt('a', 'old-1', RUNNER);
    ledger.adopt('a', 'old-2', RUNNER);
    ledger.adopt('a', 'old-2', RUNNER);
    expect(ledger.host('a')).toMatchObject({
      used: { count: 2, cpus: 4, memory: 8 * GIB },
      runners: ['old-1', 'old-2'],
    });
    ledger.setState('a', 'up');
    expect(ledger.place('new', RUNNER)).toMatchObject({ placed: true, host: 'b' });
    ledger.adopt('b', 'old-2', RUNNER);
    expect(ledger.hostOf('old-2')).toBe('b');
    expect(ledger.hosts().map((h) => h.used.count)).toEqual([1, 2]);
    expect(ledger.release('old-1')).toBe(true);
    expect(ledger.release('old-1')).toBe(false);
    expect(ledger.hostOf('old-1')).toBeUndefined();
  });

  it('shares one host between scale sets that add it: the first spec stands', () => {
    const ledger = new HostLedger();
    ledger.addHost('tcp://b:2376', { name: 'b', maxRunners: 2, cpus: 16, memory: 64 * GIB });
    ledger.addHost('tcp://b:2376', { name: 'b', maxRunners: 2, cpus: 16, memory: 64 * GIB });
    ledger.setState('tcp://b:2376', 'up');
    expect(ledger.hosts()).toHaveLength(1);
    expect(ledger.place('set-a-1', RUNNER).placed).toBe(true);
    expect(ledger.place('set-b-1', RUNNER).placed).toBe(true);
    expect(ledger.place('set-a-2', RUNNER).placed).toBe(false);
  });

  it("places a scale set only on its own hosts, holding back those not ready for it, in the book's shared turn", () => {
    const ledger = ledgerOf(
      { name: 'a', cpus: 16, memory: 64 * GIB },
      { name: 'b', cpus: 16, memory: 64 * GIB },
      { name: 'c', cpus: 16, memory: 64 * GIB },
    );
    // Set 1 runs on a and c; set 2 on b and c, whose image is still being pulled on c.
    const set1: HostScope = (key) => (key === 'a' || key === 'c' ? 'eligible' : undefined);
    const set2: HostScope = (key) => (key === 'b' ? 'eligible' : key === 'c' ? 'preparing' : undefined);
    const hostOf = (runner: string, scope: HostScope) => {
      const p = ledger.place(runner, RUNNER, scope);
      return p.placed ? p.host : p.refusals.map(describeRefusal).join('; ');
    };
    expect(hostOf('s1-0', set1)).toBe('a');
    expect(hostOf('s2-0', set2)).toBe('b');
    expect(hostOf('s1-1', set1)).toBe('c');
    expect(hostOf('s2-1', set2)).toBe('b');
    // a and c tie; the turn is the book's (b took the last runner), so c, and the index is the book's.
    expect(ledger.place('s1-2', RUNNER, set1)).toEqual({ placed: true, index: 2, host: 'c' });
    // Refusals name only the set's hosts; one not ready for it counts as joining.
    ledger.setState('b', 'down');
    expect(hostOf('s2-2', set2)).toBe('b: down; c: joining (not ready yet)');
    expect(ledger.hosts().map((h) => h.runners)).toEqual([['s1-0'], ['s2-0', 's2-1'], ['s1-1', 's1-2']]);
  });

  it('refuses with no reason when there is no host at all', () => {
    expect(place([], RUNNER)).toEqual({ placed: false, refusals: [] });
    expect(neverFits([])).toBe(false);
  });

  it('throws for a host it was never given, which is a bug in the caller', () => {
    expect(() => new HostLedger().setState('tcp://nowhere', 'up')).toThrow('no Docker host "tcp://nowhere"');
  });
});
