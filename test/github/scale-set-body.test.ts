import { describe, expect, it } from 'vitest';
import { scaleSetBody } from '../../src/github/scale-set-body.js';

describe('scale set request bodies (§4.5, §4.6)', () => {
  it('produces the exact body ARC sends, in Go field order', () => {
    const body = scaleSetBody(
      {
        name: 'arc-runner-set',
        runnerGroupId: 1,
        labels: [{ name: 'arc-runner-set' }, { name: 'linux', type: '' }],
        RunnerSetting: { disableUpdate: true },
      },
      'create',
    );
    expect(JSON.stringify(body)).toBe(
      '{"name":"arc-runner-set","runnerGroupId":1,"labels":[{"type":"System","name":"arc-runner-set"},{"type":"System","name":"linux"}],"RunnerSetting":{"disableUpdate":true},"createdOn":"0001-01-01T00:00:00Z"}',
    );
  });

  it('create inserts the name as the default label; update does not', () => {
    expect(scaleSetBody({ name: 'n' }, 'create').labels).toEqual([{ type: 'System', name: 'n' }]);
    expect(JSON.stringify(scaleSetBody({ runnerGroupId: 2 }, 'update'))).toBe(
      '{"runnerGroupId":2,"RunnerSetting":{},"createdOn":"0001-01-01T00:00:00Z"}',
    );
  });

  it('keeps explicit label types', () => {
    expect(scaleSetBody({ name: 'n', labels: [{ name: 'gpu', type: 'User' }] }, 'create').labels).toEqual([
      { type: 'User', name: 'gpu' },
    ]);
  });

  it('refuses a scale set with neither name nor labels', () => {
    expect(() => scaleSetBody({}, 'create')).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: 'runner scale set must have a name or at least one label',
      }),
    );
  });
});
