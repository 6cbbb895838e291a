import { type ShapeSize, shapedBackend } from '../../backends/index.js';
import {
  defaulted,
  int,
  list,
  oneOf,
  optional,
  RUNNERS_MAX,
  required,
  stringMap,
  table,
  tables,
  text,
} from '../schema/fields.js';
import type { Checker } from './checker.js';
import { runnerImageProblem } from './resolve-set.js';
import type { ScaleSetSettings } from './schema.js';
import type { ScaleSetConfig } from './types.js';
import { compileWarmSchedule, warmWindowTable } from './warm-schedule.js';

/**
 * Job shapes (`[[scaleset.shape]]`, `[[shape]]` at the top level): one pool, many runner sizes. Each
 * shape becomes a scale set of its own at GitHub, named from its base and size (`linux-cpu2-ram4`) and
 * labelled `[base labels…, cpu=2, ram=4, …, aliases…]`, so `runs-on: [linux, cpu=2, ram=4]` routes to
 * it, as GitHub routes a job to a scale set whose labels include all the job asks for. The size reaches
 * the backend through its module's `shaped` hook (Docker cpus/memory/platform, Tart cpu/memory,
 * Dedalus vcpu/memory-mib/storage-gib), so the backend decides what it can honour.
 *
 * Decisions the issue left open, written down here and in README "Job shapes":
 * - Sizes are whole CPUs and whole GiB: they are labels a workflow writes (`cpu=2`), and "cpu=1.5"
 *   reads like a typo there. `disk` is optional and only Dedalus sizes a disk.
 * - A set's `max-runners` is each of its shapes' default cap (a shape's own `max-runners` overrides
 *   it); `min-runners` of the set does not apply to shapes, each shape has its own (default 0).
 * - `[[shape]]` at the top level is inherited by every `[[scaleset]]` that declares none, like every
 *   other top-level key; `[scaleset.images]` merges alias by alias.
 * - No matrix shorthand: a list of `[[scaleset.shape]]` tables of two or three lines each reads as
 *   well as any matrix, and each shape usually wants its own `max-runners` and aliases anyway.
 */

export const SHAPE_ARCHES = ['amd64', 'arm64'] as const;

export const shapeTable = table('[[scaleset.shape]]', {
  cpu: required(
    int(1, 256),
    'CPUs of a runner of this shape (label cpu=N): Docker cpus, Tart cpu, Dedalus vcpu.',
  ),
  ram: required(int(1, 1024), 'Memory in GiB (label ram=N): Docker memory, Tart memory, Dedalus memory-mib.'),
  disk: optional(
    int(1, 16 * 1024),
    'Disk in GiB (label disk=N): Dedalus storage-gib; not for docker or tart.',
  ),
  arch: optional(
    oneOf(SHAPE_ARCHES),
    'CPU architecture (label arch=…): Docker platform linux/amd64 or linux/arm64; tart is arm64 only.',
  ),
  image: optional(
    text(),
    'An alias from [scaleset.images] (label image=…): the image runners of this shape run.',
  ),
  labels: defaulted(
    list(),
    [],
    'More labels for this shape, e.g. "ubuntu-latest-4core", so existing runs-on lines route to it unchanged.',
  ),
  name: optional(
    text(),
    'Its scale set name at GitHub, instead of the one made from its size.',
    'name-cpuN-ramN, then -diskN, -arch, -image as the shape says',
  ),
  'min-runners': defaulted(
    int(0, RUNNERS_MAX),
    0,
    'Warm runners of this shape, kept ready with no jobs queued.',
  ),
  'max-runners': optional(
    int(1, RUNNERS_MAX),
    'Runners of this shape at once, busy and idle together.',
    "the scale set's max-runners",
  ),
  schedule: tables(
    '[[scaleset.shape.schedule]]',
    warmWindowTable,
    "Time windows with another min-runners for this shape; without any, the scale set's [[schedule]].",
  ),
});

/** An alias is a label value: `image=full`. */
const ALIAS = /^[a-z0-9][a-z0-9._-]*$/i;

export const shapeKeys = {
  shape: tables(
    '[[scaleset.shape]]',
    shapeTable,
    'Job shapes ([[shape]] at the top level): each one a scale set of its own at GitHub, named and labelled by its size.',
  ),
  images: stringMap(
    (k) => ALIAS.test(k),
    'an alias of letters, digits, ".", "_" and "-"',
    'Image aliases a shape picks with image = "alias" (and jobs with the label image=alias): alias = "image".',
  ),
};

/** What a scale set made from a shape carries of it (status, validate, the budget). */
export interface JobShape extends ShapeSize {
  /** The name of the scale set the shape was declared in. */
  base: string;
  /** Position in that set's `shape` list, for messages. */
  index: number;
  /** The image alias, when the shape names one. */
  image?: string;
}

type ShapeSettings = ScaleSetSettings['shape'][number];

/** `linux-cpu2-ram4`, then `-disk40`, `-arm64`, `-full` for what the shape also says. */
export function shapeName(base: string, s: ShapeSettings): string {
  const parts = [base, `cpu${s.cpu}`, `ram${s.ram}`];
  if (s.disk !== undefined) parts.push(`disk${s.disk}`);
  if (s.arch !== undefined) parts.push(s.arch);
  if (s.image !== undefined) parts.push(s.image);
  return parts.join('-');
}

/** The labels that say the size, in the order a workflow would write them. */
export function sizeLabels(s: ShapeSettings): string[] {
  const out = [`cpu=${s.cpu}`, `ram=${s.ram}`];
  if (s.disk !== undefined) out.push(`disk=${s.disk}`);
  if (s.arch !== undefined) out.push(`arch=${s.arch}`);
  if (s.image !== undefined) out.push(`image=${s.image}`);
  return out;
}

/**
 * One resolved scale set and its merged settings → the scale sets it stands for: itself when it has no
 * shapes, else one per shape. Problems are recorded at the shape's key; a shape with one is left out.
 */
export function expandShapes(set: ScaleSetConfig, s: ScaleSetSettings, c: Checker): ScaleSetConfig[] {
  const shapes = s.shape;
  if (shapes.length === 0) return [set];
  const out: ScaleSetConfig[] = [];
  shapes.forEach((shape, j) => {
    const made = expandOne(set, s, shape, j, c);
    if (made) out.push(made);
  });
  return out;
}

function expandOne(
  set: ScaleSetConfig,
  s: ScaleSetSettings,
  shape: ShapeSettings,
  j: number,
  c: Checker,
): ScaleSetConfig | undefined {
  const at = (key: string) => ['shape', j, key];
  let ok = true;
  const problem = (path: (string | number)[], message: string) => {
    c.problem(set.index, path, message);
    ok = false;
  };

  let runnerImage = set.runnerImage;
  if (shape.image !== undefined) {
    const aliases = Object.keys(s.images);
    const image = s.images[shape.image];
    if (image === undefined) {
      const known = aliases.length > 0 ? `one of ${aliases.map((a) => `"${a}"`).join(', ')}` : 'an alias';
      problem(
        at('image'),
        `expected ${known} from [scaleset.images] (or [images] at the top level), got ${JSON.stringify(shape.image)}`,
      );
    } else {
      const invalid = runnerImageProblem(set.backend, image);
      if (invalid) problem(['images', shape.image], invalid);
      else runnerImage = image;
    }
  }

  const size: ShapeSize = { cpu: shape.cpu, ram: shape.ram };
  if (shape.disk !== undefined) size.disk = shape.disk;
  if (shape.arch !== undefined) size.arch = shape.arch;
  const backend = shapedBackend(set.backend, set[set.backend], size);
  if ('refused' in backend) {
    const value = size[backend.refused];
    problem(at(backend.refused), `expected ${backend.expected}, got ${JSON.stringify(value)}`);
  }

  const maxRunners = shape['max-runners'] ?? set.maxRunners;
  const minRunners = shape['min-runners'];
  const from = shape['max-runners'] === undefined ? "the scale set's max-runners" : 'its max-runners';
  if (minRunners > maxRunners) {
    problem(at('min-runners'), `expected an integer ≤ ${from} (${maxRunners}), got ${minRunners}`);
  }
  const own = shape.schedule.length > 0;
  const schedule = own ? compileWarmSchedule(shape.schedule) : set.schedule;
  schedule.forEach((w, i) => {
    if (w.minRunners <= maxRunners) return;
    const path = own ? ['shape', j, 'schedule', i, 'min-runners'] : ['schedule', i, 'min-runners'];
    problem(
      path,
      `expected an integer ≤ ${from} (${maxRunners}) for the shape "${shape.name ?? shapeName(set.name, shape)}", got ${w.minRunners}`,
    );
  });
  if (!ok || 'refused' in backend) return undefined;

  const jobShape: JobShape = { ...size, base: set.name, index: j };
  if (shape.image !== undefined) jobShape.image = shape.image;
  return {
    ...set,
    name: shape.name ?? shapeName(set.name, shape),
    labels: [...new Set([...set.labels, ...sizeLabels(shape), ...shape.labels])],
    minRunners,
    maxRunners,
    schedule,
    runnerImage,
    [set.backend]: backend,
    shape: jobShape,
  };
}
