import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/runtime-flags.js';
import { resolveExecStart } from '../../src/service/exec-start.js';

const root = join(import.meta.dirname, '../..');

describe('runner’s V8 flags reach every way it is started', () => {
  it('the npm bin’s shebang passes exactly NODE_FLAGS', async () => {
    const first = (await readFile(join(root, 'cmd/runner.ts'), 'utf8')).split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  });

  it('the service runs a script form with them, the single binary without (its execArgv has them)', () => {
    const script = join(root, 'cmd/runner.ts');
    expect(resolveExecStart({ sea: false, execPath: '/usr/bin/node', script, cwd: root })).toEqual([
      '/usr/bin/node',
      ...NODE_FLAGS,
      script,
    ]);
    expect(resolveExecStart({ sea: true, execPath: '/usr/local/bin/runner', cwd: root })).toEqual([
      '/usr/local/bin/runner',
    ]);
  });
});
