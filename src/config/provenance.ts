import type { ProblemLocation } from './errors.js';
import { envVarName } from './keys.js';
import type { Layer } from './layer.js';
import { formatKeyPath, getAt, type KeyPath, unitOf } from './paths.js';

export type Locator = (path: KeyPath) => ProblemLocation;

/** A key of the config file, under `base` (e.g. `["scaleset", 1]`). */
export function inFile(file: string, base: KeyPath = []): Locator {
  return (path) => ({ source: { kind: 'file', file }, key: formatKeyPath([...base, ...path]) });
}

/** A top-level key set through its RUNNER_* variable. */
export const inEnv: Locator = (path) => ({
  source: { kind: 'env', variable: envVarName(String(path[0])) },
  key: formatKeyPath(path),
});

/** A top-level key set through its flag. */
export const inFlag: Locator = (path) => ({
  source: { kind: 'flag', flag: `--${String(path[0])}` },
  key: formatKeyPath(path),
});

export interface Layers {
  /** The config file's name as given ('' when there is none). */
  file: string;
  fileTop: Layer;
  env: Layer;
  flags: Layer;
  /** One per `[[scaleset]]`; empty when the top level is the only scale set. */
  sets: Layer[];
}

/**
 * Which layer a merged value came from. Checks across keys (min ≤ max, tart needs an image) run on
 * merged settings; this points their messages at the line, variable or flag that set the value.
 */
export class Provenance {
  constructor(readonly layers: Layers) {}

  get multi(): boolean {
    return this.layers.sets.length > 0;
  }

  /** Where `path` of scale set `set` (undefined: the daemon) was set, or where to write it if nowhere. */
  locate(set: number | undefined, path: KeyPath): ProblemLocation {
    const unit = unitOf(path);
    const own = set === undefined ? undefined : this.layers.sets[set];
    const file = inFile(this.layers.file);
    if (own && written(own, unit)) return file(['scaleset', set as number, ...path]);
    if (written(this.layers.flags, unit)) return inFlag(path);
    if (written(this.layers.env, unit)) return inEnv(path);
    if (written(this.layers.fileTop, unit) || !own) return file(path);
    return file(['scaleset', set as number, ...path]);
  }

  /** The place in scale set `set`'s own entry, whether or not the entry writes the key (for "give it its own value"). */
  inSet(set: number, path: KeyPath): ProblemLocation {
    return inFile(this.layers.file)(this.multi ? ['scaleset', set, ...path] : path);
  }

  /** True when scale set `set` writes `path` itself rather than inheriting it. */
  ownValue(set: number, path: KeyPath): boolean {
    const own = this.layers.sets[set];
    return own !== undefined && written(own, unitOf(path));
  }

  /** True when a value on the way to `path` was rejected already, so a check on it would only echo that. */
  broken(set: number | undefined, path: KeyPath): boolean {
    const target = unitOf(path).join('.');
    const layers = [this.layers.fileTop, this.layers.env, this.layers.flags];
    const own = set === undefined ? undefined : this.layers.sets[set];
    if (own) layers.push(own);
    return layers.some((layer) =>
      [...layer.broken].some((b) => b === target || target.startsWith(`${b}.`) || b.startsWith(`${target}.`)),
    );
  }
}

function written(layer: Layer, path: KeyPath): boolean {
  return getAt(layer.value, path) !== undefined;
}
