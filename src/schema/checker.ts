import type { Secret } from '../secret.js';
import type { KeyPath } from './location.js';
import type { SecretRef } from './secret-ref.js';

/**
 * What a table's resolve step may ask of the config loader, scoped to one table of one scale set
 * (e.g. `[docker]` of `[[scaleset]]` 2): paths are relative to that table, and the loader turns them
 * into the file, line, variable or flag to point at. The loader's Checker implements it, so a backend
 * can check its own keys without depending on how the loader tracks where values came from.
 */
export interface TableChecker {
  /** Records a problem about `path`, unless its value was already rejected (that is reported once). */
  problem(path: KeyPath, message: string): void;
  /** True when a value on the way to `path` was rejected, so a check across keys would only echo it. */
  broken(path: KeyPath): boolean;
  /** The secret, or undefined after recording which variable is missing. */
  secret(ref: SecretRef, path: KeyPath): Secret | undefined;
  /** An absolute path: `~/` is the home directory, a relative one is taken from the config file's directory. */
  path(key: KeyPath, value: string): string;
  /** The file's text, or undefined after recording why it could not be read. */
  read(key: KeyPath, file: string): Promise<string | undefined>;
}
