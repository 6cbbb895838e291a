import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from '../state/atomic-file.js';

/** The hosts cordoned by `runner hosts cordon`, kept in state-dir so a cordon outlives a restart. */
export const CORDON_FILE = 'cordoned-hosts.json';

interface CordonFile {
  version: 1;
  hosts: string[];
}

export function cordonFilePath(stateDir: string): string {
  return join(stateDir, CORDON_FILE);
}

/** The cordoned host names; none when the file does not exist. A file that is not ours throws, naming it. */
export async function readCordons(stateDir: string): Promise<string[]> {
  const path = cordonFilePath(stateDir);
  let data: unknown;
  try {
    data = await readJsonFile(path);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}; fix or delete it (it lists cordoned hosts)`, {
      cause: err,
    });
  }
  if (data === undefined) return [];
  const hosts = (data as Partial<CordonFile>).hosts;
  if (
    typeof data !== 'object' ||
    data === null ||
    !Array.isArray(hosts) ||
    !hosts.every((h) => typeof h === 'string')
  ) {
    throw new Error(
      `${path}: expected {"version": 1, "hosts": ["name", …]}; fix or delete it (it lists cordoned hosts)`,
    );
  }
  return hosts;
}

/** Written atomically: a crash leaves the old list or the new one. */
export async function writeCordons(stateDir: string, hosts: readonly string[]): Promise<void> {
  const file: CordonFile = { version: 1, hosts: [...hosts].sort() };
  await writeFileAtomic(cordonFilePath(stateDir), `${JSON.stringify(file, null, 2)}\n`, 0o600);
}
