import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { TableChecker } from '../schema/checker.js';
import type { SecretRef } from '../schema/secret-ref.js';
import type { Secret } from '../secret.js';
import type { ConfigProblem } from './errors.js';
import type { KeyPath } from './paths.js';
import type { Provenance } from './provenance.js';

export interface CheckerEnv {
  env: NodeJS.ProcessEnv;
  readFile(path: string): Promise<string>;
  cwd: string;
  home: string;
}

/**
 * What the checks after merging share: the problem list, where values came from, the environment
 * for `env:` secrets, and file access for key files and scripts (read once however many sets use them).
 */
export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly #reads = new Map<string, Promise<string | Error>>();

  constructor(
    readonly prov: Provenance,
    readonly io: CheckerEnv,
  ) {}

  /** Records a problem about `path` of scale set `set` (undefined: the daemon), unless the value was rejected already. */
  problem(set: number | undefined, path: KeyPath, message: string): void {
    if (this.prov.broken(set, path)) return;
    this.problems.push({ ...this.prov.locate(set, path), message });
  }

  /** Records a problem at scale set `set`'s own entry, where the fix goes even for an inherited value. */
  problemInSet(set: number, path: KeyPath, message: string): void {
    if (this.prov.broken(set, path)) return;
    const inherited =
      this.prov.multi && !this.prov.ownValue(set, path) ? ' (inherited from the top level)' : '';
    this.problems.push({ ...this.prov.inSet(set, path), message: `${message}${inherited}` });
  }

  /** The secret, or undefined after recording which variable is missing. */
  secret(ref: SecretRef, set: number | undefined, path: KeyPath, note = ''): Secret | undefined {
    const result = ref.resolve(this.io.env);
    if ('secret' in result) return result.secret;
    const at = ref.origin ?? this.prov.locate(set, path);
    this.problems.push({ ...at, message: `${result.missing}${note}` });
    return undefined;
  }

  /**
   * An absolute path: `~/` is the home directory; a relative path is taken from the directory of the
   * config file when the value was written there (so the file works from any cwd), else from cwd.
   */
  path(set: number | undefined, key: KeyPath, value: string): string {
    if (value === '~' || value.startsWith('~/')) return join(this.io.home, value.slice(1));
    if (isAbsolute(value)) return value;
    const at = this.prov.locate(set, key);
    const base =
      at.source.kind === 'file' && at.source.file !== ''
        ? dirname(resolve(this.io.cwd, at.source.file))
        : this.io.cwd;
    return resolve(base, value);
  }

  /** The checks of one table (`[docker]`…) of scale set `set`, with paths relative to that table. */
  forTable(set: number, table: string): TableChecker {
    const at = (path: KeyPath): KeyPath => [table, ...path];
    return {
      problem: (path, message) => this.problem(set, at(path), message),
      broken: (path) => this.prov.broken(set, at(path)),
      secret: (ref, path) => this.secret(ref, set, at(path)),
      path: (key, value) => this.path(set, at(key), value),
      read: (key, file) => this.read(set, at(key), file),
    };
  }

  /** The file's text, or undefined after recording why it could not be read. */
  async read(set: number | undefined, key: KeyPath, path: string): Promise<string | undefined> {
    let pending = this.#reads.get(path);
    if (!pending) {
      pending = this.io
        .readFile(path)
        .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      this.#reads.set(path, pending);
    }
    const result = await pending;
    if (!(result instanceof Error)) return result;
    this.problem(set, key, `expected a readable file, got ${JSON.stringify(path)} (${result.message})`);
    return undefined;
  }
}
