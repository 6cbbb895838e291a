/**
 * `npm run bench:placement [-- --seconds N] [--hosts N]`, and figure 6 of `npm run bench`.
 *
 * Micro-benchmark of Docker host placement (backends/docker/fleet/): the cost of choosing a host for a
 * runner and reserving its budget there, then releasing it, with 50 simulated hosts of mixed sizes —
 * runner caps, CPU and memory budgets, some down or cordoned — kept about 90% full, which is where
 * the rule has the most candidates to weigh. Also times the "no capacity" answer of a full fleet (a
 * refusal per host). Target: ≤ 1 ms per runner.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HostLedger } from '../../backends/docker/fleet/budget.js';

const GIB = 1024 ** 3;
const RUNNER = { cpus: 2, memory: 4 * GIB };

export interface PlacementRun {
  hosts: number;
  /** place() + release() of one runner in a fleet about 90% full, µs. */
  perRunnerUs: number;
  /** place() answering "no capacity" for a full fleet, µs. */
  refusalUs: number;
  /** Runners placed in the timed window. */
  placements: number;
}

/** A fleet of `n` hosts of mixed sizes; every tenth is down and every seventeenth cordoned. */
function fleet(n: number): HostLedger {
  const ledger = new HostLedger();
  for (let i = 0; i < n; i++) {
    const key = `tcp://build-${i}:2376`;
    const caps = [4, 8, 16, 32, undefined];
    ledger.addHost(key, {
      name: `build-${i}`,
      maxRunners: caps[i % caps.length],
      cpus: [8, 16, 32, 64][i % 4],
      memory: [32, 64, 128, 256][(i >> 1) % 4]! * GIB,
    });
    ledger.setState(key, i % 10 === 9 ? 'down' : 'up');
    if (i % 17 === 16) ledger.setCordoned(key, true);
  }
  return ledger;
}

export function runPlacement(o: { seconds: number; hosts?: number }): PlacementRun {
  const hosts = o.hosts ?? 50;
  const ledger = fleet(hosts);
  // Fill, then keep it about 90% full: each new runner replaces the oldest once the mark is reached.
  const live: string[] = [];
  let serial = 0;
  const placeOne = (): boolean => {
    const name = `r${serial++}`;
    if (!ledger.place(name, RUNNER).placed) return false;
    live.push(name);
    return true;
  };
  while (placeOne()) {}
  const capacity = live.length;
  const full = ledger.place('one-too-many', RUNNER);
  if (full.placed) throw new Error('the fleet should be full');
  while (live.length > Math.floor(capacity * 0.9)) ledger.release(live.shift()!);

  const churn = (ms: number): number => {
    let n = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let k = 0; k < 256; k++) {
        if (!placeOne()) throw new Error('a fleet 90% full refused a runner');
        ledger.release(live.shift()!);
      }
      n += 256;
    }
    return n;
  };
  churn(300); // warm-up: JIT
  const t0 = performance.now();
  const placements = churn(o.seconds * 1000);
  const perRunnerUs = ((performance.now() - t0) * 1000) / placements;

  // Refusals: fill up again and time the answer of a full fleet.
  while (placeOne()) {}
  const refusals = 20_000;
  const t1 = performance.now();
  for (let i = 0; i < refusals; i++) {
    if (ledger.place(`x${i}`, RUNNER).placed) throw new Error('the fleet should be full');
  }
  const refusalUs = ((performance.now() - t1) * 1000) / refusals;
  return { hosts, perRunnerUs, refusalUs, placements };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '3' }, hosts: { type: 'string', default: '50' } },
  });
  const r = runPlacement({ seconds: Number(values.seconds), hosts: Number(values.hosts) });
  console.log(
    `${r.hosts} hosts: ${r.perRunnerUs.toFixed(2)} µs per runner (place + release, ${r.placements} runners), ` +
      `${r.refusalUs.toFixed(2)} µs per "no capacity" answer`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
