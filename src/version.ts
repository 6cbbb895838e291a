import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * runner's own package.json, read at run time: the npm package carries it; the single binary build
 * replaces the reads below (RUNNER_BUILD_*) with the values it was built from. This module imports
 * nothing but Node built-ins, because the Node version check (node-check.ts) runs on it before any
 * dependency loads.
 */
interface PackageJson {
  name?: string;
  version?: string;
  engines?: { node?: string };
}

let found: PackageJson | null | undefined;

/** The nearest package.json named "runner" above this module (src/ and dist/src/ alike), or null. */
function ownPackageJson(): PackageJson | null {
  if (found !== undefined) return found;
  found = null;
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch {
    return found; // not a file URL (a bundle in memory): the build defines what it needs
  }
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (pkg.name === 'runner') {
        found = pkg;
        return found;
      }
    } catch {
      // none here, or not readable: look one level up
    }
    const parent = dirname(dir);
    if (parent === dir) return found;
    dir = parent;
  }
}

export const VERSION: string = process.env.RUNNER_BUILD_VERSION ?? ownPackageJson()?.version ?? '0.0.0-dev';

/** package.json's `engines.node`: the one statement of which Node runner runs on. */
export const NODE_RANGE: string | undefined =
  process.env.RUNNER_BUILD_NODE_RANGE ?? ownPackageJson()?.engines?.node;
