import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostLedger } from '../../backends/docker/fleet/budget.js';
import type { Demand, HostState, HostView } from '../../backends/docker/fleet/placement.js';

/**
 * Properties of placement through the budget book, against a model that keeps its own account of every
 * runner (which host, what it takes) and judges each answer with its own arithmetic:
 * - no placement overcommits any dimension of any host;
 * - no runner is placed on a host that is down, joining, cordoned or of unknown size;
 * - a runner is placed whenever some host can take it, on a host with the most free budget;
 * - the book's use per host is always the sum of its runners, and releasing every runner brings every
 *   host back to exactly zero (adoption, moves and repeats included).
 */

const MIB = 1024 ** 2;
const STATES: HostState[] = ['up', 'up', 'up', 'down', 'joining'];

interface HostArb {
  maxRunners: number | undefined;
  cpus: number | undefined;
  memory: number | undefined;
  /** The engine's size, reported at once, for the dimensions left out. */
  engine: { cpus: number; memory: number } | undefined;
  state: HostState;
  cordoned: boolean;
}

const hostArb: fc.Arbitrary<HostArb> = fc.record({
  maxRunners: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  cpus: fc.option(fc.constantFrom(0.5, 1, 2, 3.3, 4, 8, 16), { nil: undefined }),
  memory: fc.option(
    fc.integer({ min: 1, max: 64 }).map((n) => n * 256 * MIB),
    { nil: undefined },
  ),
  engine: fc.option(
    fc.record({
      cpus: fc.integer({ min: 1, max: 16 }),
      memory: fc.integer({ min: 1, max: 64 }).map((n) => n * 256 * MIB),
    }),
    { nil: undefined },
  ),
  state: fc.constantFrom(...STATES),
  cordoned: fc.boolean(),
});

const demandArb: fc.Arbitrary<Demand> = fc.record({
  // Fractions whose sums are inexact in floating point (0.1, 0.3, 3.3) test that the book is exact.
  cpus: fc.constantFrom(0, 0.1, 0.25, 0.3, 0.5, 1, 1.5, 2, 3.3),
  memory: fc.constantFrom(0, 256 * MIB, 512 * MIB, 1024 * MIB, 3 * 1024 * MIB),
});

type Command =
  | { kind: 'place'; demand: Demand }
  | { kind: 'release'; i: number }
  | { kind: 'state'; h: number; state: HostState }
  | { kind: 'cordon'; h: number; cordoned: boolean }
  | { kind: 'size'; h: number; cpus: number; memory: number }
  | { kind: 'adopt'; h: number; demand: Demand }
  | { kind: 'readopt'; i: number; h: number };

const placing: fc.Arbitrary<Command>[] = [
  fc.record({ kind: fc.constant('place' as const), demand: demandArb }),
  fc.record({ kind: fc.constant('place' as const), demand: demandArb }),
  fc.record({ kind: fc.constant('place' as const), demand: demandArb }),
  fc.record({ kind: fc.constant('release' as const), i: fc.nat(40) }),
  fc.record({ kind: fc.constant('state' as const), h: fc.nat(9), state: fc.constantFrom(...STATES) }),
  fc.record({ kind: fc.constant('cordon' as const), h: fc.nat(9), cordoned: fc.boolean() }),
];
const reality: fc.Arbitrary<Command>[] = [
  fc.record({
    kind: fc.constant('size' as const),
    h: fc.nat(9),
    cpus: fc.integer({ min: 1, max: 16 }),
    memory: fc.integer({ min: 1, max: 64 }).map((n) => n * 256 * MIB),
  }),
  fc.record({ kind: fc.constant('adopt' as const), h: fc.nat(9), demand: demandArb }),
  fc.record({ kind: fc.constant('readopt' as const), i: fc.nat(40), h: fc.nat(9) }),
];

const nano = (cpus: number) => Math.round(cpus * 1e9);

/** The model: which host each runner is on and what it takes, in exact units. */
class Model {
  readonly runners = new Map<string, { host: number; nano: number; memory: number }>();

  usedOf(h: number): { count: number; nano: number; memory: number } {
    const used = { count: 0, nano: 0, memory: 0 };
    for (const r of this.runners.values()) {
      if (r.host !== h) continue;
      used.count += 1;
      used.nano += r.nano;
      used.memory += r.memory;
    }
    return used;
  }

  /** Budgets in exact units; undefined when a dimension is not known. */
  static budgetOf(v: HostView): { count: number; nano: number; memory: number } | undefined {
    const { count, cpus, memory } = v.budget;
    if (cpus === 'unknown' || memory === 'unknown' || count === 'unknown') return undefined;
    return {
      count: count === 'unlimited' ? Number.POSITIVE_INFINITY : count,
      nano: cpus === 'unlimited' ? Number.POSITIVE_INFINITY : nano(cpus),
      memory: memory === 'unlimited' ? Number.POSITIVE_INFINITY : memory,
    };
  }

  /** Free fractions after placing `d` on `h`, scarcest first; undefined when `h` cannot take it. */
  scoreIfFits(v: HostView, h: number, d: Demand): number[] | undefined {
    if (v.state !== 'up' || v.cordoned) return undefined;
    const budget = Model.budgetOf(v);
    if (!budget) return undefined;
    const used = this.usedOf(h);
    const after = { count: used.count + 1, nano: used.nano + nano(d.cpus), memory: used.memory + d.memory };
    const keys = ['count', 'nano', 'memory'] as const;
    if (keys.some((k) => after[k] > budget[k])) return undefined;
    return keys
      .map((k) => (budget[k] === Number.POSITIVE_INFINITY ? 1 : (budget[k] - after[k]) / budget[k]))
      .sort((a, b) => a - b);
  }
}

function setup(hosts: HostArb[]): { ledger: HostLedger; keys: string[] } {
  const ledger = new HostLedger();
  const keys = hosts.map((_, i) => `tcp://h${i}:2376`);
  hosts.forEach((h, i) => {
    const key = keys[i] as string;
    ledger.addHost(key, { name: `h${i}`, maxRunners: h.maxRunners, cpus: h.cpus, memory: h.memory });
    if (h.engine) ledger.reportSize(key, h.engine);
    ledger.setState(key, h.state);
    ledger.setCordoned(key, h.cordoned);
  });
  return { ledger, keys };
}

function play(hosts: HostArb[], commands: Command[]): void {
  const { ledger, keys } = setup(hosts);
  const model = new Model();
  let serial = 0;
  const held = () => [...model.runners.keys()];
  const hostIndex = (h: number) => h % keys.length;

  for (const c of commands) {
    switch (c.kind) {
      case 'place': {
        const views = ledger.hosts();
        const scores = views.map((v, h) => model.scoreIfFits(v, h, c.demand));
        const name = `r${serial++}`;
        const answer = ledger.place(name, c.demand);
        const fits = scores.some((s) => s !== undefined);
        expect(answer.placed, 'placed exactly when some host can take the runner').toBe(fits);
        if (!answer.placed) {
          expect(answer.refusals.map((r) => r.host)).toEqual(views.map((v) => v.name));
          answer.refusals.forEach((r, h) => {
            const v = views[h] as HostView;
            if (v.state !== 'up') expect(r.reason).toBe(v.state);
            else if (v.cordoned) expect(r.reason).toBe('cordoned');
            else expect(['budget-unknown', 'full', 'too-small']).toContain(r.reason);
          });
          break;
        }
        const chosen = scores[answer.index];
        expect(chosen, `host ${answer.host} was eligible`).toBeDefined();
        // The most free budget: no eligible host is freer in its scarcest dimension, then the next.
        for (const s of scores) {
          if (!s || !chosen) continue;
          const better = s.findIndex((x, k) => Math.abs(x - (chosen[k] as number)) > 1e-9);
          if (better >= 0) expect(s[better] as number).toBeLessThan(chosen[better] as number);
        }
        model.runners.set(name, { host: answer.index, nano: nano(c.demand.cpus), memory: c.demand.memory });
        const after = ledger.hosts()[answer.index] as HostView;
        const budget = Model.budgetOf(after);
        expect(budget).toBeDefined();
        if (!budget) break;
        // Never overcommitted, exactly.
        expect(after.used.count).toBeLessThanOrEqual(budget.count);
        expect(nano(after.used.cpus)).toBeLessThanOrEqual(budget.nano);
        expect(after.used.memory).toBeLessThanOrEqual(budget.memory);
        break;
      }
      case 'release': {
        const names = held();
        const name = names[c.i % Math.max(1, names.length)];
        expect(ledger.release(name ?? 'nobody')).toBe(name !== undefined);
        if (name) model.runners.delete(name);
        break;
      }
      case 'state':
        ledger.setState(keys[hostIndex(c.h)] as string, c.state);
        break;
      case 'cordon':
        ledger.setCordoned(keys[hostIndex(c.h)] as string, c.cordoned);
        break;
      case 'size':
        ledger.reportSize(keys[hostIndex(c.h)] as string, c);
        break;
      case 'adopt': {
        const name = `a${serial++}`;
        const h = hostIndex(c.h);
        ledger.adopt(keys[h] as string, name, c.demand);
        ledger.adopt(keys[h] as string, name, c.demand); // seen twice, counted once
        model.runners.set(name, { host: h, nano: nano(c.demand.cpus), memory: c.demand.memory });
        break;
      }
      case 'readopt': {
        const names = held();
        const name = names[c.i % Math.max(1, names.length)];
        if (!name) break;
        const h = hostIndex(c.h);
        const r = model.runners.get(name);
        if (!r) break;
        // What it takes is what it took: adoption reads the container's own limits.
        ledger.adopt(keys[h] as string, name, { cpus: r.nano / 1e9, memory: r.memory });
        model.runners.set(name, { ...r, host: h });
        break;
      }
    }
    // The book agrees with the model on every host, exactly.
    ledger.hosts().forEach((v, h) => {
      const used = model.usedOf(h);
      expect({ count: v.used.count, nano: nano(v.used.cpus), memory: v.used.memory }).toEqual(used);
      expect(v.runners.length).toBe(used.count);
    });
  }

  for (const name of held()) expect(ledger.release(name)).toBe(true);
  for (const v of ledger.hosts()) {
    expect(v.used).toEqual({ count: 0, cpus: 0, memory: 0 });
    expect(v.runners).toEqual([]);
  }
}

describe('Docker placement properties', () => {
  it('never overcommits, never uses a host it may not, places whenever a host fits, on the freest', () => {
    fc.assert(
      fc.property(
        fc.array(hostArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.oneof(...placing), { minLength: 10, maxLength: 120 }),
        play,
      ),
      { numRuns: 300 },
    );
  });

  it('keeps an exact account through adoption, moves and size changes, and balances to zero', () => {
    fc.assert(
      fc.property(
        fc.array(hostArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.oneof(...placing, ...reality), { minLength: 10, maxLength: 120 }),
        play,
      ),
      { numRuns: 300 },
    );
  });

  it('with only placements and releases, no host is ever over any budget', () => {
    fc.assert(
      fc.property(
        fc.array(hostArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.oneof(...placing), { minLength: 10, maxLength: 120 }),
        (hosts, commands) => {
          const { ledger } = setup(hosts);
          let serial = 0;
          const names: string[] = [];
          for (const c of commands) {
            if (c.kind === 'place') {
              const name = `r${serial++}`;
              if (ledger.place(name, c.demand).placed) names.push(name);
            } else if (c.kind === 'release' && names.length > 0) {
              ledger.release(names.splice(c.i % names.length, 1)[0] as string);
            }
            for (const v of ledger.hosts()) {
              const budget = Model.budgetOf(v);
              if (!budget) {
                expect(v.used.count).toBe(0);
                continue;
              }
              expect(v.used.count).toBeLessThanOrEqual(budget.count);
              expect(nano(v.used.cpus)).toBeLessThanOrEqual(budget.nano);
              expect(v.used.memory).toBeLessThanOrEqual(budget.memory);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('spreads a burst over identical hosts evenly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 60 }), (n, runners) => {
        const { ledger } = setup(
          Array.from({ length: n }, () => ({
            maxRunners: undefined,
            cpus: 64,
            memory: 256 * 1024 * MIB,
            engine: undefined,
            state: 'up' as const,
            cordoned: false,
          })),
        );
        for (let i = 0; i < runners; i++) ledger.place(`r${i}`, { cpus: 1, memory: 1024 * MIB });
        const counts = ledger.hosts().map((h) => h.used.count);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(runners);
      }),
      { numRuns: 100 },
    );
  });
});
