import { type CliFlavour, type FootprintSample, runFootprint } from './footprint.js';

/** Scale-set counts the figure measures a daemon at. */
export const SCALE_COUNTS = [1, 10, 50] as const;

export interface ScaleRun {
  /** One idle daemon per count, measured alone (npm bin). */
  samples: FootprintSample[];
}

/**
 * The scale sets of a daemon of `count` sets, written as users with job shapes would: one set for 1;
 * one base with ten `[[shape]]` for 10; five `[[scaleset]]` bases with ten `[[scaleset.shape]]` each
 * for 50 (issue 16: "a few bases × shapes").
 */
export function scaleSetsToml(count: number, flavour: CliFlavour): { toml: string[]; count: number } {
  const shapes = (table: string) =>
    Array.from({ length: 10 }, (_, i) => [
      '',
      `[[${table}]]`,
      `cpu = ${(i % 5) + 1}`,
      `ram = ${2 * (i + 1)}`,
    ]).flat();
  if (count === 1) return { toml: [], count: 1 };
  if (count === 10) return { toml: shapes('shape'), count: 10 };
  const bases = count / 10;
  const toml = Array.from({ length: bases }, (_, b) => [
    '',
    '[[scaleset]]',
    `name = "sc-${flavour}-${b}"`,
    ...shapes('scaleset.shape'),
  ]).flat();
  return { toml, count };
}

/**
 * Figure 8 (issue 16): what each added scale set costs an idle daemon. The npm bin with 1, 10 and 50
 * scale sets (job shapes: bases × sizes) against the standalone fake, one daemon at a time, each
 * measured as the idle footprint is (figures/footprint.ts: RSS and CPU from /proc over a window after
 * every set listens), plus the TCP connections it holds to the fake: one long poll per set through
 * the one shared pool, nothing per set beyond it.
 */
export async function runScale(o: {
  windowSec: number;
  settleSec: number;
  log(s: string): void;
}): Promise<ScaleRun> {
  const samples: FootprintSample[] = [];
  for (const count of SCALE_COUNTS) {
    const run = await runFootprint({
      windowSec: o.windowSec,
      settleSec: o.settleSec,
      log: o.log,
      flavours: ['dist'],
      scaleSets: (flavour) => scaleSetsToml(count, flavour),
    });
    samples.push(...run.samples);
  }
  return { samples };
}
