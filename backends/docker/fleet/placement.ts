import { formatSize } from '../../../src/schema/units.js';

/**
 * Which Docker host a new runner goes to: pure, clock-free, and O(hosts) per runner. The ledger
 * (budget.ts) owns the state and reserves what this chooses.
 *
 * A host has a budget in three dimensions: `count` (runners, `max-runners`), `cpus` (the sum of the
 * runners' CPU limits) and `memory` (the sum of their memory limits). A runner takes 1 count and its
 * `[docker] cpus`/`memory` limits; a runner without a limit takes 0 of that dimension.
 *
 * The rule, precisely:
 * 1. A host is eligible when it is `up`, not cordoned, knows its budget in every dimension, and the
 *    runner fits in every dimension: `used + need ≤ budget` (never overcommitted; exact, since CPUs are
 *    counted in integer nano-CPUs as the engine does and memory in bytes).
 * 2. Among eligible hosts, the one left with the most free budget wins. "Most free" compares, for each
 *    host, the free fraction of each dimension after placing the runner — `(budget − used − need) /
 *    budget`, 1 for a dimension without a cap — sorted from the scarcest up: the host whose scarcest
 *    dimension is freest wins; equal there, the next scarcest decides, then the third. So a host is
 *    judged by what it is shortest of (count, cpus or memory, whichever that is), big hosts take
 *    proportionally more runners than small ones, and no host fills up while another sits empty.
 * 3. Ties (fractions equal within 1e-9, e.g. identical hosts) rotate round-robin: the first tied host
 *    at or after `from` in host order wins, and the ledger moves `from` past each placed host.
 * 4. No eligible host: a refusal per host, with the first reason in this order: down, joining,
 *    cordoned, budget unknown, then per dimension (count, cpus, memory) too small for even one runner
 *    (`too-small`: waiting will not help) or full for now (`full`).
 */

export type HostState = 'up' | 'down' | 'joining';

export const DIMENSIONS = ['count', 'cpus', 'memory'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * A budget dimension: an amount, no cap (`max-runners` left out), or not known yet (no budget in the
 * config and the engine's own size, from `docker info`, not reported yet).
 */
export type Limit = number | 'unlimited' | 'unknown';

/** CPUs (fractions allowed) and bytes, as in the config. */
export interface Budget {
  count: Limit;
  cpus: Limit;
  memory: Limit;
}

/** What the runners placed on or adopted from a host take, all scale sets together. */
export interface Usage {
  count: number;
  cpus: number;
  memory: number;
}

/** What one runner takes: its `[docker] cpus` and `memory` limits (0: none, counts nothing). */
export interface Demand {
  cpus: number;
  memory: number;
}

export interface HostView {
  name: string;
  state: HostState;
  cordoned: boolean;
  budget: Budget;
  used: Usage;
}

export type Refusal =
  | { host: string; reason: 'down' | 'joining' | 'cordoned' }
  | { host: string; reason: 'budget-unknown'; dimension: Dimension }
  | {
      host: string;
      /** `too-small`: one runner needs more than the whole budget; `full`: not with what is in use now. */
      reason: 'full' | 'too-small';
      dimension: Dimension;
      used: number;
      budget: number;
      need: number;
    };

export type Placement =
  | { placed: true; index: number; host: string }
  | { placed: false; refusals: Refusal[] };

const EPSILON = 1e-9;

/** CPUs as the engine counts them (NanoCpus), so sums of fractions are exact. */
export function nanoCpus(cpus: number): number {
  return Math.round(cpus * 1e9);
}

/** Budget, use and need of one dimension in exact integer units (nano-CPUs for cpus). */
function amounts(
  host: HostView,
  demand: Demand,
  d: Dimension,
): { limit: number | 'unlimited' | 'unknown'; used: number; need: number } {
  const limit = host.budget[d];
  if (d === 'cpus') {
    return {
      limit: typeof limit === 'number' ? nanoCpus(limit) : limit,
      used: nanoCpus(host.used.cpus),
      need: nanoCpus(demand.cpus),
    };
  }
  return { limit, used: host.used[d], need: d === 'count' ? 1 : demand.memory };
}

/** Why `host` cannot take a runner of `demand` now, or undefined when it can. */
export function refusalOf(host: HostView, demand: Demand): Refusal | undefined {
  const name = host.name;
  if (host.state !== 'up') return { host: name, reason: host.state };
  if (host.cordoned) return { host: name, reason: 'cordoned' };
  for (const d of DIMENSIONS) {
    if (host.budget[d] === 'unknown') return { host: name, reason: 'budget-unknown', dimension: d };
  }
  for (const d of DIMENSIONS) {
    const { limit, used, need } = amounts(host, demand, d);
    if (typeof limit !== 'number' || used + need <= limit) continue;
    const shown = (v: number) => (d === 'cpus' ? v / 1e9 : v);
    return {
      host: name,
      reason: need > limit ? 'too-small' : 'full',
      dimension: d,
      used: shown(used),
      budget: shown(limit),
      need: shown(need),
    };
  }
  return undefined;
}

/** The free fractions after placing, scarcest first. Only for a host refusalOf accepts. */
function score(host: HostView, demand: Demand): number[] {
  const fractions = DIMENSIONS.map((d) => {
    const { limit, used, need } = amounts(host, demand, d);
    if (typeof limit !== 'number') return 1;
    return limit > 0 ? (limit - used - need) / limit : 0;
  });
  return fractions.sort((a, b) => a - b);
}

/** >0 when `a` is freer than `b`, <0 when less, 0 when tied. */
function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (Math.abs(d) > EPSILON) return d;
  }
  return 0;
}

/**
 * The host a runner of `demand` goes to (see the rule above), or why none can take it. `from` is the
 * round-robin position for ties: the index after the last host placed on.
 */
export function place(hosts: readonly HostView[], demand: Demand, from = 0): Placement {
  const n = hosts.length;
  const start = n === 0 ? 0 : ((from % n) + n) % n;
  let best: { index: number; score: number[]; turn: number } | undefined;
  const refusals: Refusal[] = [];
  for (let index = 0; index < n; index++) {
    const host = hosts[index] as HostView;
    const refusal = refusalOf(host, demand);
    if (refusal) {
      refusals.push(refusal);
      continue;
    }
    const s = score(host, demand);
    // How far after `from` the host comes: among ties, the nearest takes its turn.
    const turn = (index - start + n) % n;
    const c = best ? compare(s, best.score) : 1;
    if (c > 0 || (c === 0 && best && turn < best.turn)) best = { index, score: s, turn };
  }
  if (best) return { placed: true, index: best.index, host: (hosts[best.index] as HostView).name };
  return { placed: false, refusals };
}

/** True when no host could ever take the runner as its budgets stand: waiting will not help. */
export function neverFits(refusals: readonly Refusal[]): boolean {
  return refusals.length > 0 && refusals.every((r) => r.reason === 'too-small');
}

function amount(d: Dimension, v: number): string {
  if (d === 'memory') return formatSize(v);
  if (d === 'cpus') {
    const n = Math.round(v * 1000) / 1000;
    return `${n} CPU${n === 1 ? '' : 's'}`;
  }
  return String(v);
}

/** "build-2: cpus full (15 CPUs of 16 CPUs in use, 2 CPUs needed)", for logs and errors. */
export function describeRefusal(r: Refusal): string {
  switch (r.reason) {
    case 'down':
      return `${r.host}: down`;
    case 'joining':
      return `${r.host}: joining (not ready yet)`;
    case 'cordoned':
      return `${r.host}: cordoned`;
    case 'budget-unknown':
      return `${r.host}: ${r.dimension} budget not known yet (the engine has not reported its size)`;
    case 'full':
      return `${r.host}: ${r.dimension} full (${amount(r.dimension, r.used)} of ${amount(r.dimension, r.budget)} in use, ${amount(r.dimension, r.need)} needed)`;
    case 'too-small':
      return `${r.host}: one runner needs ${amount(r.dimension, r.need)}, more than its whole ${r.dimension} budget (${amount(r.dimension, r.budget)})`;
  }
}
