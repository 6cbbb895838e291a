import { readFileSync } from 'node:fs';

/** Read from package.json at runtime; the single binary build replaces this module's value. */
function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'runner' && pkg.version) return pkg.version;
    } catch {
      // not at this depth (src/ vs dist/src/); try the next
    }
  }
  return '0.0.0-dev';
}

export const VERSION: string = process.env.RUNNER_BUILD_VERSION ?? readVersion();
