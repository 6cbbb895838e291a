import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeAll, beforeEach } from 'vitest';

/**
 * The real network components the proxy and TLS tests run: Debian's `tinyproxy` (a forward proxy with
 * CONNECT and Basic auth) and `openssl` (a private CA made at test time), and for the runners' tests
 * `curl` (the TLS client a job runs). `.ci/run` installs them.
 *
 * As with Docker (test/setup/docker.ts): on CI (CI=true) a missing tool fails the tests, never skips
 * them; elsewhere each test is skipped with the reason.
 */

const TOOLS = ['tinyproxy', 'openssl'] as const;
export type Tool = (typeof TOOLS)[number] | 'curl';

/** PATH, then the sbin directories some distributions put daemons in. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

export function missingTools(extra: readonly Tool[] = []): Tool[] {
  return [...TOOLS, ...extra].filter((t) => findExecutable(t) === undefined);
}

/** Call at the top of a test file that starts tinyproxy or makes certificates; `extra`: further tools it runs. */
export function useNetworkTools(extra: readonly Tool[] = []): void {
  let missing: Tool[] = [];
  beforeAll(() => {
    missing = missingTools(extra);
    if (missing.length > 0 && process.env.CI === 'true') {
      throw new Error(
        `${missing.join(' and ')} not found; CI=true, so these tests fail instead of skipping (.ci/run installs them: apt-get install ${missing.join(' ')})`,
      );
    }
  });
  beforeEach((ctx) => {
    if (missing.length > 0)
      ctx.skip(`${missing.join(' and ')} not installed (apt-get install ${missing.join(' ')})`);
  });
}
