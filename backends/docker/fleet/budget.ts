import { type Demand, type HostState, type HostView, nanoCpus, type Placement, place } from './placement.js';

/**
 * The budget book of the Docker hosts: what each host may hold and what every scale set of this
 * process has placed on or adopted from it. One book per process (`hostLedger`), because a host listed
 * by several scale sets has one budget that they share (the config checks they agree on it).
 *
 * Every method is synchronous: choosing a host and reserving on it happen in one step, so two starts
 * of different scale sets can never both take a host's last slot. Runners are counted by name (names
 * are unique in a process: they carry the scale set and the instance), which makes adoption and
 * release idempotent. Clock-free: health, retries and reconciling are the backend's.
 */

/**
 * How one scale set sees a host of the book: one of its hosts and ready for it (`eligible`), one of
 * its hosts not ready for it yet (`preparing`), or not one of its hosts (undefined).
 */
export type HostScope = (key: string) => 'eligible' | 'preparing' | undefined;

/** What the config says of one host; a budget key left out is no cap (count) or the engine's own size. */
export interface HostSpec {
  name: string;
  maxRunners?: number | undefined;
  cpus?: number | undefined;
  /** Bytes. */
  memory?: number | undefined;
}

/** A host as `runner hosts` and the metrics show it. */
export interface LedgerHost extends HostView {
  /** The key it was added under (the host's url). */
  key: string;
  /** Names of the runners counted on it, in the order they came. */
  runners: string[];
}

interface Entry {
  key: string;
  /** What placement reads, kept current in place (used.cpus is usedNanoCpus / 1e9). */
  view: HostView;
  /** CPUs in use in nano-CPUs, so sums and differences are exact. */
  usedNanoCpus: number;
  /** The budget dimensions the engine's size fills (the config left them out). */
  engineSized: { cpus: boolean; memory: boolean };
  runners: Set<string>;
}

interface Reservation {
  entry: Entry;
  nanoCpus: number;
  memory: number;
}

export class HostLedger {
  readonly #hosts = new Map<string, Entry>();
  /** The hosts in the order they were added: the order placement rotates through on ties. */
  readonly #order: Entry[] = [];
  /** #order's views, for placement without building them per runner. */
  readonly #views: HostView[] = [];
  readonly #runners = new Map<string, Reservation>();
  /** Round-robin position: the index after the host placed on last. */
  #next = 0;

  /**
   * Adds a host as `joining` (not placed on until it is `up`). Adding a key again (a second scale set
   * on the host) changes nothing: the first spec stands, which the config check makes the same.
   */
  addHost(key: string, spec: HostSpec): void {
    if (this.#hosts.has(key)) return;
    const entry: Entry = {
      key,
      view: {
        name: spec.name,
        state: 'joining',
        cordoned: false,
        budget: {
          count: spec.maxRunners ?? 'unlimited',
          cpus: spec.cpus ?? 'unknown',
          memory: spec.memory ?? 'unknown',
        },
        used: { count: 0, cpus: 0, memory: 0 },
      },
      usedNanoCpus: 0,
      engineSized: { cpus: spec.cpus === undefined, memory: spec.memory === undefined },
      runners: new Set(),
    };
    this.#hosts.set(key, entry);
    this.#order.push(entry);
    this.#views.push(entry.view);
  }

  /**
   * The engine's own size (`docker info`: NCPU, MemTotal) for the dimensions the config left to it;
   * a budget the config wrote is kept. Reported again (a host that came back) it replaces the last.
   */
  reportSize(key: string, size: { cpus: number; memory: number }): void {
    const entry = this.#entry(key);
    if (entry.engineSized.cpus) entry.view.budget.cpus = size.cpus;
    if (entry.engineSized.memory) entry.view.budget.memory = size.memory;
  }

  setState(key: string, state: HostState): void {
    this.#entry(key).view.state = state;
  }

  setCordoned(key: string, cordoned: boolean): void {
    this.#entry(key).view.cordoned = cordoned;
  }

  /**
   * Chooses a host for `runner` (placement.ts) and reserves its demand there, in one step. A runner
   * that already holds a reservation keeps it: asking again answers where it is.
   *
   * `scope` limits the choice to one scale set's hosts (the book holds every set's) and holds back
   * those of them that are up but not ready for this set yet (its image still being pulled there):
   * they are refused as `joining`. Without it every host in the book is a candidate.
   */
  place(runner: string, demand: Demand, scope?: HostScope): Placement {
    const held = this.#runners.get(runner);
    if (held) {
      return { placed: true, index: this.#order.indexOf(held.entry), host: held.entry.view.name };
    }
    const answer = this.#choose(demand, scope);
    if (!answer.placed) return answer;
    this.#count(this.#order[answer.index] as Entry, runner, demand);
    this.#next = answer.index + 1;
    return answer;
  }

  /** Where `place` would put a runner of `demand` now (or why nowhere), reserving nothing. */
  wouldPlace(demand: Demand, scope?: HostScope): Placement {
    return this.#choose(demand, scope);
  }

  /** The placement of `demand` among the hosts of `scope` (all without one); `index` in book order. */
  #choose(demand: Demand, scope?: HostScope): Placement {
    if (!scope) return place(this.#views, demand, this.#next);
    // Only the caller's hosts, in book order; `from` is where the shared round-robin stands among them.
    const views: HostView[] = [];
    const global: number[] = [];
    let from = 0;
    this.#order.forEach((entry, i) => {
      const seen = scope(entry.key);
      if (seen === undefined) return;
      if (i < this.#next) from = views.length + 1;
      views.push(
        seen === 'preparing' && entry.view.state === 'up' ? { ...entry.view, state: 'joining' } : entry.view,
      );
      global.push(i);
    });
    const answer = place(views, demand, from);
    if (!answer.placed) return answer;
    return { placed: true, index: global[answer.index] as number, host: answer.host };
  }

  /**
   * Counts a runner found on a host (adoption after a restart, reconciling a host that came back),
   * whatever its state and budget: it is there, so it takes its share, even if that puts the host over
   * a budget lowered since (the host then takes no new runner until it is under again). Counting the
   * same runner again changes nothing; seen on another host, it moves there.
   */
  adopt(key: string, runner: string, demand: Demand): void {
    const entry = this.#entry(key);
    const held = this.#runners.get(runner);
    if (held?.entry === entry) return;
    if (held) this.release(runner);
    this.#count(entry, runner, demand);
  }

  /** Gives back what `runner` took (removed, or its start failed). False when it held nothing. */
  release(runner: string): boolean {
    const held = this.#runners.get(runner);
    if (!held) return false;
    this.#runners.delete(runner);
    this.#add(held.entry, -1, -held.nanoCpus, -held.memory);
    held.entry.runners.delete(runner);
    return true;
  }

  /** The key of the host `runner` is counted on. */
  hostOf(runner: string): string | undefined {
    return this.#runners.get(runner)?.entry.key;
  }

  /** Every host, in the order added. */
  hosts(): LedgerHost[] {
    return this.#order.map(snapshot);
  }

  host(key: string): LedgerHost | undefined {
    const entry = this.#hosts.get(key);
    return entry && snapshot(entry);
  }

  #count(entry: Entry, runner: string, demand: Demand): void {
    const held: Reservation = { entry, nanoCpus: nanoCpus(demand.cpus), memory: demand.memory };
    this.#runners.set(runner, held);
    this.#add(entry, 1, held.nanoCpus, held.memory);
    entry.runners.add(runner);
  }

  #add(entry: Entry, count: number, nano: number, memory: number): void {
    const used = entry.view.used;
    entry.usedNanoCpus += nano;
    used.count += count;
    used.cpus = entry.usedNanoCpus / 1e9;
    used.memory += memory;
  }

  #entry(key: string): Entry {
    const entry = this.#hosts.get(key);
    if (!entry) throw new Error(`no Docker host ${JSON.stringify(key)} in the budget book`);
    return entry;
  }
}

/** A copy: what callers hold does not change under them. */
function snapshot(e: Entry): LedgerHost {
  const v = e.view;
  return {
    key: e.key,
    name: v.name,
    state: v.state,
    cordoned: v.cordoned,
    budget: { ...v.budget },
    used: { ...v.used },
    runners: [...e.runners],
  };
}

/** The book of this process: every scale set's Docker backend places through it. */
export const hostLedger = new HostLedger();
