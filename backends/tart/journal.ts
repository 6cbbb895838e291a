import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { TartError } from './errors.js';

/** Identifies this process in records, so a second backend of the same owner in-process leaves ours alone. */
export const PROCESS_TAG = randomUUID();

const Entry = z.object({
  kind: z.enum(['pool', 'runner']),
  /** creating: before `clone` (so a crash mid-boot still leaves a record); ready: booted; started: runner launched. */
  phase: z.enum(['creating', 'ready', 'started']),
  runner: z.string().optional(),
  runnerId: z.number().int().optional(),
  mac: z.string().optional(),
  createdAt: z.string(),
  proc: z.string(),
  /** Set when the runner ended (run.sh exited or the VM stopped); the VM stays until removed. */
  exit: z.object({ code: z.number().int().optional(), reason: z.string(), at: z.string() }).optional(),
});
export type JournalEntry = z.infer<typeof Entry>;

const FileShape = z.object({ version: z.literal(1), vms: z.record(z.string(), Entry) });

/** Serialises read-modify-write per file across every Journal object of the process. */
const queues = new Map<string, Promise<unknown>>();

/**
 * The ownership record of a scale set's VMs: tart VMs carry no labels, so this file is our label store.
 * A VM is ours when it has a record here (and our name prefix); `listOwned`, adoption and doctor read
 * it, never a name pattern alone. Records are written before `tart clone`, so a crash at any point
 * leaves either no VM or a VM we know about. Writes are atomic (temp file, fsync, rename).
 */
export class Journal {
  constructor(readonly path: string) {}

  async read(): Promise<Record<string, JournalEntry>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TartError('TART_STATE_CORRUPT', `${this.path}: not valid JSON; fix or remove it`, {
        cause: err,
      });
    }
    const parsed = FileShape.safeParse(json);
    // A record we cannot read is a VM we cannot account for: refuse rather than treat it as absent.
    if (!parsed.success) {
      throw new TartError('TART_STATE_CORRUPT', `${this.path}: ${parsed.error.message}; fix or remove it`);
    }
    return parsed.data.vms;
  }

  put(vm: string, entry: JournalEntry): Promise<void> {
    return this.update((vms) => {
      vms[vm] = entry;
    });
  }

  patch(vm: string, change: Partial<JournalEntry>): Promise<void> {
    return this.update((vms) => {
      const cur = vms[vm];
      if (cur) vms[vm] = { ...cur, ...change };
    });
  }

  drop(vm: string): Promise<void> {
    return this.update((vms) => {
      delete vms[vm];
    });
  }

  update(fn: (vms: Record<string, JournalEntry>) => void): Promise<void> {
    const prev = queues.get(this.path) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        const vms = await this.read();
        fn(vms);
        await this.#write(vms);
      });
    queues.set(this.path, next);
    void next.finally(() => {
      if (queues.get(this.path) === next) queues.delete(this.path);
    });
    return next;
  }

  async #write(vms: Record<string, JournalEntry>): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify({ version: 1, vms }, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
