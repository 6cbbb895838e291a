import { copyFile, mkdir, readdir, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from './built-cli.js';

/**
 * runner as `npm install -g` lays it out under `prefix`: <prefix>/lib/node_modules/runner with its
 * package.json, dist/ compiled one module to one file (no bundle, so ESM import order is what Node
 * sees, as with tsc), and its dependencies (the repository's node_modules, linked). Returns the bin,
 * dist/cmd/runner.js. esbuild rather than tsc: the same output for this purpose in well under a second,
 * and nothing written to the repository's own dist/.
 */
export async function installNpmBin(prefix: string): Promise<string> {
  const pkg = join(prefix, 'lib', 'node_modules', 'runner');
  const entryPoints: string[] = [];
  for (const dir of ['cmd', 'src', 'backends']) {
    for (const e of await readdir(join(repoRoot, dir), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) entryPoints.push(join(e.parentPath, e.name));
    }
  }
  await build({
    entryPoints,
    outdir: join(pkg, 'dist'),
    outbase: repoRoot,
    bundle: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'warning',
  });
  await mkdir(pkg, { recursive: true });
  await copyFile(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  await symlink(relative(pkg, join(repoRoot, 'node_modules')), join(pkg, 'node_modules'), 'dir');
  return join(pkg, 'dist', 'cmd', 'runner.js');
}
