import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { REFERENCE_END, REFERENCE_START, renderConfigReference } from '../../src/config/reference.js';

describe('README configuration reference', () => {
  it('is exactly what the schema says (every key, its default and its meaning)', async () => {
    const readme = await readFile('README.md', 'utf8');
    const start = readme.indexOf(REFERENCE_START);
    const end = readme.indexOf(REFERENCE_END);
    expect(start, 'README.md lacks the config-reference markers').toBeGreaterThan(-1);
    const current = readme.slice(start + REFERENCE_START.length, end).trim();
    const wanted = renderConfigReference();
    if (process.env.UPDATE_README === '1' && current !== wanted) {
      await writeFile(
        'README.md',
        `${readme.slice(0, start + REFERENCE_START.length)}\n${wanted}\n${readme.slice(end)}`,
      );
      return;
    }
    expect(current).toBe(wanted);
  });
});
