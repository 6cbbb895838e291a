import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';

describe('RUNNER_NAME inside a GitHub Actions job', () => {
  const text = 'url = "https://github.com/my-org"\nname = "linux"\n';

  it('is ignored when GITHUB_ACTIONS=true (the job runner sets it for itself)', async () => {
    const cfg = await parseConfigText(text, 'c.toml', {
      RUNNER_TOKEN: 't',
      RUNNER_NAME: 'GitHub Actions 7',
      GITHUB_ACTIONS: 'true',
    });
    expect(cfg.scaleSets[0]!.name).toBe('linux');
  });

  it('overrides the file elsewhere', async () => {
    const cfg = await parseConfigText(text, 'c.toml', { RUNNER_TOKEN: 't', RUNNER_NAME: 'other' });
    expect(cfg.scaleSets[0]!.name).toBe('other');
  });
});
