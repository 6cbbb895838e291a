import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { repoRoot } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** `file:function`, file relative to the repo (node internals and dependencies as V8 names them). */
  where: string;
  /** Share of all sampled time, in percent. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time spent in the function itself. */
  self: HotSpot[];
  /** Time spent in the function or anything it called (each function counted once per sample). */
  inclusive: HotSpot[];
}

/**
 * A V8 CPU profile of this process, taken with the inspector (the same data as `node --cpu-prof`, but
 * around one measured window only, so start-up and teardown do not drown the hot path).
 */
export class Profiler {
  readonly #session = new Session();

  async start(): Promise<void> {
    this.#session.connect();
    await this.#session.post('Profiler.enable');
    // 250 µs: fine enough for a path whose whole cost is a few ms per job.
    await this.#session.post('Profiler.setSamplingInterval', { interval: 250 });
    await this.#session.post('Profiler.start');
  }

  async stop(file: string): Promise<ProfileSummary> {
    const { profile } = (await this.#session.post('Profiler.stop')) as { profile: CpuProfile };
    this.#session.disconnect();
    await writeFile(file, JSON.stringify(profile));
    return summarize(profile, file);
  }
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const file = url.startsWith(repoRoot) ? relative(repoRoot, url) : url || '(native)';
  return `${file}:${n.callFrame.functionName || '(anonymous)'}`;
}

export function summarize(p: CpuProfile, file: string, top = 25): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map<number, number>();
  const notWork = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!);
      if (k === '(native):(idle)' || k.startsWith('node:inspector:') || k.includes('bench/lib/profile.ts'))
        return true;
    }
    return false;
  };
  for (const [i, id] of p.samples.entries()) time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  let total = 0;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, t] of time) {
    // Shares are of the time the process was busy with its own work: idle samples and the
    // profiler's own inspector traffic are left out of the denominator as well.
    if (notWork(id)) continue;
    total += t;
    const node = byId.get(id)!;
    self.set(label(node), (self.get(label(node)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!);
      if (k.endsWith(':(root)') || seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + t);
    }
  }
  const rank = (m: Map<string, number>): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, t]) => ({ where, pct: Math.round((t / total) * 1000) / 10 }));
  return { file, totalMs: Math.round(total / 1000), self: rank(self), inclusive: rank(incl) };
}
