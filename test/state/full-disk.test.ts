import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoalescingWriter, type WriteOutage, writeFileAtomic } from '../../src/state/atomic-file.js';
import { Tmpfs, useTmpfs } from '../setup/tmpfs.js';
import { ManualClock } from '../support/manual-clock.js';

// A real filesystem that really fills up: CI fails when it cannot mount one (see test/setup/tmpfs.ts).
useTmpfs();

let disk: Tmpfs;
let mountPoint: string;
beforeEach(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'runner-full-disk-'));
  disk = await Tmpfs.mount(mountPoint, { sizeKiB: 64 });
});
afterEach(async () => {
  await disk.unmount();
  await rm(mountPoint, { recursive: true, force: true });
});

describe('writeFileAtomic on a full disk', () => {
  it('fails with ENOSPC, keeps the old file and leaves no temp file, however often it is retried', async () => {
    const path = join(disk.dir, 'scalesets', 'linux.json');
    await writeFileAtomic(path, '{"old":true}');
    await disk.fill();
    for (let i = 0; i < 5; i++) {
      await expect(writeFileAtomic(path, `{"new":${i}}`)).rejects.toMatchObject({ code: 'ENOSPC' });
    }
    expect(await readdir(join(disk.dir, 'scalesets'))).toEqual(['linux.json']);
    expect(await readFile(path, 'utf8')).toBe('{"old":true}');
    await disk.free();
    await writeFileAtomic(path, '{"new":5}');
    expect(await readFile(path, 'utf8')).toBe('{"new":5}');
  });
});

describe('CoalescingWriter on a full disk', () => {
  it('one outage however many writes fail, retried on its clock, ended once by the first write that succeeds', async () => {
    const clock = new ManualClock();
    const path = join(disk.dir, 'state.json');
    const errors: unknown[] = [];
    const changes: [WriteOutage | undefined, WriteOutage | undefined][] = [];
    const w = new CoalescingWriter(path, (e) => errors.push(e), 0, { clock, retryMs: 5_000 });
    w.onOutage((now, ended) => changes.push([now, ended]));
    await disk.fill();

    let version = 0;
    for (let i = 0; i < 3; i++) {
      w.schedule(() => JSON.stringify({ version }));
      await w.flush();
      version++;
    }
    expect(errors).toHaveLength(3);
    const since = clock.now();
    expect(w.outage).toMatchObject({ since, code: 'ENOSPC' });
    expect(w.outage?.error).toMatch(/^ENOSPC/);
    expect(changes).toEqual([[w.outage, undefined]]);

    // Nothing changes meanwhile: the retry alone writes the newest content again, and fails again.
    clock.advance(5_000);
    await w.flush();
    expect(errors).toHaveLength(4);
    expect(changes).toHaveLength(1);
    expect(w.outage?.since).toBe(since);

    await disk.free();
    clock.advance(4_999);
    await w.flush();
    expect(errors).toHaveLength(4);
    clock.advance(1);
    await w.flush();
    expect(w.outage).toBeUndefined();
    expect(changes).toHaveLength(2);
    expect(changes[1]).toEqual([undefined, expect.objectContaining({ since, code: 'ENOSPC' })]);
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify({ version: 3 }));
    expect((await readdir(disk.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Written: no retry left armed.
    expect(clock.pending).toBe(0);
  });
});
