import { join } from 'node:path';
import { z } from 'zod';
import { slug } from '../../src/labels.js';
import { readJsonFile, writeFileAtomic } from '../../src/state/atomic-file.js';
import type { Owner } from '../types.js';
import { DedalusBackendError } from './errors.js';

/**
 * Dedalus machines cannot be tagged (no name, label or metadata field), so this file is the only
 * record of which machines are ours. Everything that touches a machine starts from it; a machine in
 * the account that is not listed here is never touched.
 */

const OwnerSchema = z.object({ instanceId: z.string(), scaleSet: z.string() });

const RunnerSchema = z.object({
  name: z.string(),
  runnerId: z.number().int(),
  startedAt: z.string(),
  exitedAt: z.string().optional(),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
});

const MachineRecordSchema = z.object({
  machineId: z.string(),
  owner: OwnerSchema,
  provisioned: z.boolean(),
  /** Runners this machine has hosted (recycle-after-jobs). */
  jobs: z.number().int().nonnegative(),
  createdAt: z.string(),
  currentRunner: RunnerSchema.optional(),
  /** The runner's execution, written right after it is created (absent: crashed in between). */
  executionId: z.string().optional(),
  /** Delete requested; a restart finishes it. */
  deleting: z.boolean().optional(),
});

/** A create sent but not yet answered: after a crash, replaying its key finds the machine it made. */
const PendingCreateSchema = z.object({
  idempotencyKey: z.string(),
  body: z.object({
    vcpu: z.number(),
    memory_mib: z.number(),
    storage_gib: z.number(),
    autosleep: z.string().optional(),
  }),
  at: z.string(),
});

/**
 * A runner whose process ended while its machine went back to the pool. Listed (state 'exited') until
 * `remove` confirms the scaler has seen it, so an exit is never lost across a restart.
 */
const ExitedRunnerSchema = RunnerSchema.extend({ machineId: z.string(), exitedAt: z.string() });

const FileSchema = z.object({
  version: z.literal(1),
  machines: z.array(MachineRecordSchema),
  exitedRunners: z.array(ExitedRunnerSchema).default([]),
  pendingCreates: z.array(PendingCreateSchema).default([]),
});

/** Oldest exited-runner entries are dropped beyond this: a scaler that never removes must not grow the file forever. */
const MAX_EXITED = 500;

export type MachineRecord = z.infer<typeof MachineRecordSchema>;
export type RunnerRecord = z.infer<typeof RunnerSchema>;
export type PendingCreate = z.infer<typeof PendingCreateSchema>;
export type ExitedRunner = z.infer<typeof ExitedRunnerSchema>;

export class MachineStateFile {
  readonly path: string;
  readonly #records = new Map<string, MachineRecord>();
  /** Records of another owner found in the file: kept as they are, never acted on. */
  #foreign: MachineRecord[] = [];
  #pending: PendingCreate[] = [];
  #exited: ExitedRunner[] = [];
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    path: string,
    readonly owner: Owner,
  ) {
    this.path = path;
  }

  /** One file per owner, so two daemons sharing a state-dir never overwrite each other's records. */
  static fileFor(stateDir: string, owner: Owner): string {
    return join(stateDir, `dedalus-${slug(owner.scaleSet, 48)}-${slug(owner.instanceId, 64)}.json`);
  }

  static async load(stateDir: string, owner: Owner): Promise<MachineStateFile> {
    const file = new MachineStateFile(MachineStateFile.fileFor(stateDir, owner), owner);
    let raw: unknown;
    try {
      raw = await readJsonFile(file.path);
    } catch (err) {
      throw corrupt(file.path, err instanceof Error ? err.message : String(err), err);
    }
    if (raw === undefined) return file;
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw corrupt(file.path, `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`);
    }
    for (const rec of parsed.data.machines) {
      if (rec.owner.instanceId === owner.instanceId && rec.owner.scaleSet === owner.scaleSet) {
        file.#records.set(rec.machineId, rec);
      } else file.#foreign.push(rec);
    }
    file.#pending = parsed.data.pendingCreates;
    file.#exited = parsed.data.exitedRunners;
    return file;
  }

  records(): MachineRecord[] {
    return [...this.#records.values()];
  }

  get(machineId: string): MachineRecord | undefined {
    return this.#records.get(machineId);
  }

  exitedRunners(): readonly ExitedRunner[] {
    return this.#exited;
  }

  addExited(r: ExitedRunner): Promise<void> {
    this.#exited = [...this.#exited.filter((x) => x.name !== r.name), r].slice(-MAX_EXITED);
    return this.save();
  }

  /** True when there was such an entry. */
  removeExited(name: string): boolean {
    const before = this.#exited.length;
    this.#exited = this.#exited.filter((x) => x.name !== name);
    return this.#exited.length !== before;
  }

  clearExited(): void {
    this.#exited = [];
  }

  pendingCreates(): readonly PendingCreate[] {
    return this.#pending;
  }

  /** Each mutator resolves once the change is on disk (temp file, fsync, rename). */
  put(rec: MachineRecord): Promise<void> {
    this.#records.set(rec.machineId, rec);
    return this.save();
  }

  delete(machineId: string): Promise<void> {
    this.#records.delete(machineId);
    return this.save();
  }

  addPending(p: PendingCreate): Promise<void> {
    this.#pending = [...this.#pending.filter((x) => x.idempotencyKey !== p.idempotencyKey), p];
    return this.save();
  }

  removePending(idempotencyKey: string): Promise<void> {
    this.#pending = this.#pending.filter((x) => x.idempotencyKey !== idempotencyKey);
    return this.save();
  }

  /** Writes are chained, so the file on disk always reflects the latest call once its promise resolves. */
  save(): Promise<void> {
    const next = this.#writing.then(() => writeFileAtomic(this.path, this.#render()));
    this.#writing = next.catch(() => {});
    return next;
  }

  #render(): string {
    return `${JSON.stringify(
      {
        version: 1,
        machines: [...this.#records.values(), ...this.#foreign],
        exitedRunners: this.#exited,
        pendingCreates: this.#pending,
      },
      null,
      2,
    )}\n`;
  }
}

function corrupt(path: string, why: string, cause?: unknown): DedalusBackendError {
  return new DedalusBackendError(
    'DEDALUS_STATE_CORRUPT',
    `${path}: unreadable Dedalus state file (${why}). It is the only record of which machines are ours: fix it, or move it away and delete the machines it lists by hand`,
    { cause },
  );
}
