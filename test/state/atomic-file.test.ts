import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CoalescingWriter,
  readJsonFile,
  removeUnfinishedWrites,
  writeFileAtomic,
} from '../../src/state/atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates missing directories, writes the data with the mode and leaves no temp file', async () => {
    const path = join(dir, 'a', 'b', 'state.json');
    await writeFileAtomic(path, '{"x":1}');
    expect(await readJsonFile(path)).toEqual({ x: 1 });
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['state.json']);
  });

  it('readJsonFile: undefined for a missing file, an error for bad JSON', async () => {
    expect(await readJsonFile(join(dir, 'none.json'))).toBeUndefined();
    const bad = join(dir, 'bad.json');
    await writeFileAtomic(bad, '{');
    await expect(readJsonFile(bad)).rejects.toThrow(SyntaxError);
  });
});

describe('removeUnfinishedWrites', () => {
  it('removes the temp files of writes a killed process left, anywhere below, and nothing else', async () => {
    await mkdir(join(dir, 'scalesets'), { recursive: true });
    await writeFileAtomic(join(dir, 'scalesets', 'e2e.json'), '{}');
    await writeFile(join(dir, 'scalesets', 'e2e.json.c2cd01f2.tmp'), '{"half');
    await writeFile(join(dir, 'instance.json.0a1b2c3d.tmp'), '');
    await writeFile(join(dir, 'notes.tmp'), 'not one of ours');
    expect((await removeUnfinishedWrites(dir)).sort()).toEqual([
      'instance.json.0a1b2c3d.tmp',
      join('scalesets', 'e2e.json.c2cd01f2.tmp'),
    ]);
    expect((await readdir(dir)).sort()).toEqual(['notes.tmp', 'scalesets']);
    expect(await readdir(join(dir, 'scalesets'))).toEqual(['e2e.json']);
    expect(await removeUnfinishedWrites(join(dir, 'missing'))).toEqual([]);
  });
});

describe('CoalescingWriter', () => {
  it('a burst of changes becomes at most two writes, and flush leaves the newest content on disk', async () => {
    const path = join(dir, 'state.json');
    const errors: unknown[] = [];
    const w = new CoalescingWriter(path, (e) => errors.push(e), 20);
    let renders = 0;
    for (let i = 0; i < 100; i++) {
      w.schedule(() => {
        renders++;
        return JSON.stringify({ i });
      });
    }
    await w.flush();
    expect(await readFile(path, 'utf8')).toBe('{"i":99}');
    // The first change is written at once; the other 99 collapse into one more write.
    expect(renders).toBe(2);
    expect(errors).toEqual([]);
  });

  it('spaces writes at least minIntervalMs apart', async () => {
    const path = join(dir, 'state.json');
    const w = new CoalescingWriter(path, () => undefined, 60);
    const at: number[] = [];
    for (let i = 0; i < 3; i++) {
      w.schedule(() => {
        at.push(performance.now());
        return String(i);
      });
      await w.flush();
    }
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(60);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(60);
    expect(await readFile(path, 'utf8')).toBe('2');
  });

  it('reports a failed write and goes on with the next one', async () => {
    const errors: unknown[] = [];
    // A directory where the file should be: the rename fails.
    const path = join(dir, 'taken');
    await writeFileAtomic(join(path, 'inner'), 'x');
    const w = new CoalescingWriter(path, (e) => errors.push(e));
    w.schedule(() => 'data');
    await w.flush();
    expect(errors).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['taken']);
  });
});
