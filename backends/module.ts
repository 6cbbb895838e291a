import type { z } from 'zod';
import type { CheckResult } from '../src/checks/result.js';
import type { NetworkAccess } from '../src/net/types.js';
import type { TableChecker } from '../src/schema/checker.js';
import type { BackendContext, RunnerBackend } from './types.js';

/**
 * Everything one backend kind brings: its config table (schema, resolution, checks across keys), its
 * implementation, its `runner validate` checks and what `runner doctor` needs. The config loader,
 * validate, doctor and the daemon reach a backend only through this object (via backends/index.ts).
 *
 * The object itself is light: `kind`, `schema`, `resolve` and the cross-set checks load with the config.
 * `create`, `validate` and `inventory` import the implementation on first use, so a daemon on Docker
 * never loads the Tart or Dedalus code (nor `runner validate` a client it does not need).
 *
 * `C` is the resolved config the implementation runs on; `S` the zod table of `[<kind>]`.
 */
export interface BackendModule<K extends string = string, C = unknown, S extends z.ZodObject = z.ZodObject> {
  readonly kind: K;
  /** The `[<kind>]` table of a scale set: keys, defaults, one-line descriptions (README is generated from it). */
  readonly schema: S;
  /** One line for the config reference: what the table is. */
  readonly description: string;
  /**
   * `runner-image` when the config leaves it out (a default, or the problem to report), and what a
   * written one must look like (`check`), so a name the backend cannot use is a config error.
   */
  readonly runnerImage: ({ default: string } | { missing: string }) & {
    check?: { valid(image: string): boolean; expected: string };
  };
  /**
   * The table's parsed settings → the config `create` runs on, with the checks that involve more than one
   * key, relative paths, and `env:` secrets. Undefined when a problem was recorded. Every scale set's
   * table is resolved whichever backend the set uses (a typo in an unused table is still reported);
   * `used` says whether this set runs on this backend, so secrets and files are only required then.
   */
  resolve(table: z.output<S>, scope: ResolveScope): C | undefined | Promise<C | undefined>;
  /**
   * Pairs of keys of the table that are two ways to say one thing (Docker's `host` and `[[hosts]]`): a
   * layer (a `[[scaleset]]` entry) that writes one replaces the other inherited from below, as `token`
   * and `[github-app]` do. One layer writing both is for `resolve` to report.
   */
  readonly alternatives?: readonly (readonly [string, string])[];
  /**
   * The config of a runner of one job shape's size (`[[scaleset.shape]]`): `config` with its size keys
   * set from the shape, or, for a part of the shape this backend cannot give a runner, the shape key to
   * leave out and why. Without this hook the backend takes no shapes.
   */
  shaped?(config: C, size: ShapeSize): C | ShapeRefusal;
  /** Checks across the scale sets that use this backend (e.g. one host limit they must share). */
  checkAcrossSets?(sets: readonly SetTable<z.output<S>>[]): void;
  create(ctx: BackendContext, setup: BackendSetup<C>): Promise<RunnerBackend>;
  /** The `runner validate` rows of one scale set: read-only (nothing pulled, created or woken). */
  validate(setup: BackendSetup<C>, opts: CheckOptions): Promise<CheckResult[]>;
  /** What `runner doctor` lists and removes through; it must never start runners or pools. */
  inventory(ctx: BackendContext, setup: BackendSetup<C>): Promise<BackendInventory>;
}

/** A job shape's size (src/config/shapes.ts), as every backend reads it. */
export interface ShapeSize {
  /** CPUs. */
  cpu: number;
  /** Memory in GiB. */
  ram: number;
  /** Disk in GiB, when the shape asks for one. */
  disk?: number;
  /** CPU architecture, when the shape asks for one. */
  arch?: 'amd64' | 'arm64';
}

/** A shape key a backend cannot honour: the key, and "expected …" for the message. */
export interface ShapeRefusal {
  refused: keyof ShapeSize;
  expected: string;
}

export interface ResolveScope {
  /** True when the scale set runs on this backend. */
  used: boolean;
  /**
   * True when the set declares job shapes: each shape sets the size keys (`shaped`), so what the table
   * says of a runner's size is not what its runners get, and is not checked here.
   */
  shapes?: boolean;
  check: TableChecker;
}

/** One scale set's table, for checks across sets. */
export interface SetTable<T> {
  /** Index in `[[scaleset]]`, for messages that point at another entry. */
  index: number;
  table: T;
  check: TableChecker;
}

/** One scale set's use of a backend: what create, validate and doctor receive. */
export interface BackendSetup<C> {
  /** Scale set name (validate rows carry it). */
  scaleSet: string;
  /** The image or VM runners are made from ('' where the backend has none). */
  runnerImage: string;
  config: C;
}

export interface CheckOptions {
  /** Per check: one slow service cannot stall the rest. */
  timeoutMs: number;
  /** The environment the daemon would run with (PATH, TART_HOME…). */
  env: NodeJS.ProcessEnv;
  /** The scale set's proxy and CA, for a check that calls an HTTP API: its route is shown, its failures advised. */
  network?: NetworkAccess | undefined;
  signal?: AbortSignal | undefined;
}

/** The part of a backend doctor uses: what this owner has, and removing it. */
export type BackendInventory = Pick<RunnerBackend, 'resourceKind' | 'listOwned' | 'remove' | 'close'>;
