import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/**
 * The daemon must be the process a signal reaches: npm runs commands through `sh -c`, and a SIGTERM to
 * npm dies with that shell instead of draining runner (test/e2e/npx.test.ts shows the tree). So no
 * command in the README starts `runner run` through a wrapper that keeps itself in between.
 */
describe('README commands that start the daemon', () => {
  it('run the binary itself, never through npx or npm run/start', () => {
    const starts = README.split('\n').filter((line) => /\brunner(\.js)? run\b/.test(line));
    expect(starts.length).toBeGreaterThan(3);
    for (const line of starts) expect(line).not.toMatch(/\bnpx\b|\bnpm (run|start|exec)\b/);
  });
});
