import { fileURLToPath } from 'node:url';

/**
 * How this copy of runner was installed, which decides how it is updated: the single binary replaces
 * itself (`runner update`); an npm install is npm's to update (a global one with `-g`, a project's in
 * that project); a source checkout is updated with git.
 */
export type InstallKind = 'binary' | 'npm-global' | 'npm-local' | 'source';

/**
 * `modulePath` is a file of the running code, symlinks resolved (an ES module's own URL is): a global
 * npm install lives under `<prefix>/lib/node_modules/runner/`, a project's under
 * `<project>/node_modules/runner/`.
 */
export function installKind(sea: boolean, modulePath: string = fileURLToPath(import.meta.url)): InstallKind {
  if (sea) return 'binary';
  const path = modulePath.replaceAll('\\', '/');
  if (/\/lib\/node_modules\/runner\//.test(path)) return 'npm-global';
  if (/\/node_modules\/runner\//.test(path)) return 'npm-local';
  return 'source';
}

/** How to install `version` the way this copy was installed: "`npm install -g runner@1.2.3`". */
export function howToInstall(kind: InstallKind, version: string, downgrade = false): string {
  switch (kind) {
    case 'binary':
      return downgrade ? `\`runner update --version ${version} --allow-downgrade\`` : '`runner update`';
    case 'npm-global':
      return `\`npm install -g runner@${version}\``;
    case 'npm-local':
      return `\`npm install runner@${version}\` in the project that runs it`;
    case 'source':
      return `\`git pull && npm ci\` in the checkout it runs from (or check out v${version})`;
  }
}
