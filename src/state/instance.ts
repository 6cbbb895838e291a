import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/**
 * The daemon's ownership id, kept in state-dir so a restart with the same config adopts its own
 * runners, while a second daemon with another state-dir never touches them.
 */
export async function loadInstanceId(stateDir: string): Promise<string> {
  const path = join(stateDir, 'instance-id');
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (/^[a-z0-9-]{6,64}$/.test(id)) return id;
    throw new Error(
      `${path}: not a valid instance id (${JSON.stringify(id.slice(0, 80))}); delete it to get a new one`,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  await writeFileAtomic(path, `${id}\n`, 0o600);
  return id;
}
