import { join } from 'node:path';
import { z } from 'zod';
import { slug } from '../labels.js';
import {
  CoalescingWriter,
  type CoalescingWriterOptions,
  readJsonFile,
  type WriteOutage,
} from './atomic-file.js';

const StoredRunner = z.object({ runnerId: z.number().int().optional(), createdAt: z.string() });
const StoredScaleSet = z.object({
  version: z.literal(1),
  scaleSetId: z.number().int().optional(),
  runners: z.record(z.string(), StoredRunner),
});
export type StoredRunner = z.infer<typeof StoredRunner>;

/**
 * Under load every start and removal changes the file; rewriting it (with two fsyncs) for each cost a
 * tenth of the daemon's CPU at a few hundred jobs/s. Writes at most this often instead: the record of a
 * registration still reaches the disk about when GitHub answers the request that creates it.
 */
const WRITE_INTERVAL_MS = 100;

/**
 * Registrations this daemon made at GitHub, per scale set: the crash-recovery ledger. Written before a
 * runner's resource exists, so after a crash a registration whose container/VM never came up is still
 * found and removed. While it cannot be written (a full disk), `outage` says since when and why, and
 * the scaler starts no new runner (see RunnerScaler): a registration missing from the ledger is the one
 * leftover no later process could find.
 */
export class ScaleSetStore {
  readonly path: string;
  #scaleSetId: number | undefined;
  readonly #runners = new Map<string, StoredRunner>();
  readonly #writer: CoalescingWriter;

  private constructor(path: string, onError: (err: unknown) => void, opts: CoalescingWriterOptions) {
    this.path = path;
    this.#writer = new CoalescingWriter(path, onError, WRITE_INTERVAL_MS, opts);
  }

  /** `onError`: every failed write; `opts`: the retry of a failed write and its clock. */
  static async open(
    stateDir: string,
    scaleSet: string,
    onError: (err: unknown) => void,
    opts: CoalescingWriterOptions = {},
  ): Promise<ScaleSetStore> {
    const store = new ScaleSetStore(join(stateDir, 'scalesets', `${slug(scaleSet, 64)}.json`), onError, opts);
    const raw = await readJsonFile(store.path);
    if (raw !== undefined) {
      const parsed = StoredScaleSet.safeParse(raw);
      if (!parsed.success) {
        throw new Error(
          `${store.path}: unreadable state file (${parsed.error.issues[0]?.message}); move it away to start fresh`,
        );
      }
      store.#scaleSetId = parsed.data.scaleSetId;
      for (const [name, r] of Object.entries(parsed.data.runners)) store.#runners.set(name, r);
    }
    return store;
  }

  get scaleSetId(): number | undefined {
    return this.#scaleSetId;
  }

  set scaleSetId(id: number | undefined) {
    this.#scaleSetId = id;
    this.#save();
  }

  runners(): ReadonlyMap<string, StoredRunner> {
    return this.#runners;
  }

  put(name: string, runner: StoredRunner): void {
    this.#runners.set(name, runner);
    this.#save();
  }

  delete(name: string): void {
    if (this.#runners.delete(name)) this.#save();
  }

  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** Since when the file has not been writable, and why; undefined while it is. */
  get outage(): WriteOutage | undefined {
    return this.#writer.outage;
  }

  /** Told when an outage begins (`now`) and when it ends (`ended`); returns the unsubscribe. */
  onOutage(fn: (now: WriteOutage | undefined, ended: WriteOutage | undefined) => void): () => void {
    return this.#writer.onOutage(fn);
  }

  /** Stops retrying a failed write (shutdown). */
  close(): void {
    this.#writer.stop();
  }

  #save(): void {
    this.#writer.schedule(() =>
      JSON.stringify(
        { version: 1, scaleSetId: this.#scaleSetId, runners: Object.fromEntries(this.#runners) },
        null,
        2,
      ),
    );
  }
}
