/**
 * Where a config value was written: the vocabulary shared by the config loader (which finds the place)
 * and the code that reports problems about a value (the loader's checks and each backend's own).
 */

/** A path into the settings: `["docker", "mounts", 0, "source"]`. */
export type KeyPath = readonly (string | number)[];

/** Where a value came from, so a message points at the line, variable or flag to change. */
export type ProblemSource =
  | { kind: 'file'; file: string; line?: number; column?: number }
  | { kind: 'env'; variable: string }
  | { kind: 'flag'; flag: string };

/** A place a value was written: a key of a file, an environment variable or a flag. */
export interface ProblemLocation {
  source: ProblemSource;
  /** TOML key path, e.g. `scaleset[1].max-runners` ('' when the problem concerns the whole source). */
  key: string;
}
