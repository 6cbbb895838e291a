import satisfies from 'semver/functions/satisfies.js';
import { NODE_RANGE, VERSION } from './version.js';

/**
 * Whether this Node can run runner, checked by the npm bin before anything else loads: on an older
 * Node a dependency fails deep inside its own code (undici reads zlib's zstd on Node 20 and crashes at
 * import with "Cannot read properties of undefined (reading 'bind')"), which tells nobody what to do.
 * The range is package.json's `engines.node`, so npm's own engine warning and this check agree.
 * Imports: Node built-ins and semver (plain JavaScript that runs on any Node) only.
 */
export function unsupportedNode(
  node: string = process.versions.node,
  range: string | undefined = NODE_RANGE,
): string | undefined {
  if (range === undefined || satisfies(node, range, { includePrerelease: true })) return undefined;
  return `runner ${VERSION} needs Node.js ${range} (package.json engines.node); this is Node.js ${node} (${process.execPath}). Install a newer Node.js (nodejs.org, or your version manager), or use the single binary from install.sh, which brings its own`;
}
