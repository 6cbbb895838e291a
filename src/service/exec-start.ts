import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { NODE_FLAGS } from '../runtime-flags.js';

export interface ExecStartInput {
  /** --binary-path, when given. */
  binaryPath?: string;
  /** Running as the single executable. */
  sea: boolean;
  /** process.execPath: the binary itself, or the node running the script. */
  execPath: string;
  /** process.argv[1]: the script, when run by node. */
  script?: string;
  cwd: string;
}

/**
 * The command the service starts. The single binary runs as itself. An npm install is a script that
 * needs its node: the global `runner` is a symlink into node_modules, so the script is resolved to its
 * real path, which survives a change of the symlink (and PATH plays no part under systemd).
 */
export function resolveExecStart(input: ExecStartInput): string[] {
  if (input.binaryPath) {
    const path = absolute(input.binaryPath, input.cwd);
    mustExist(path, '--binary-path');
    return /\.[cm]?js$/.test(path) ? [input.execPath, ...NODE_FLAGS, path] : [path];
  }
  if (input.sea) return [input.execPath];
  if (!input.script) throw new Error('cannot tell which script is running; pass --binary-path');
  const script = absolute(input.script, input.cwd);
  mustExist(script, 'the running script');
  return [input.execPath, ...NODE_FLAGS, realpathSync(script)];
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function mustExist(path: string, what: string): void {
  if (!existsSync(path))
    throw new Error(`${what} ${path} does not exist; pass the path of the runner binary with --binary-path`);
}
