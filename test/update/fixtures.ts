import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKSUMS_FILE } from '../../src/release/layout.js';
import { publishRelease } from '../../src/release/publish.js';
import { type ReleaseTarget, releaseTarget } from '../../src/release/target.js';

export const hostTarget: ReleaseTarget = releaseTarget() ?? 'linux-x64';

/** A stand-in for the runner binary: a script that says which release it came from. */
export function fakeExecutable(version: string): Buffer {
  return Buffer.from(`#!/bin/sh\necho "fake runner ${version}"\n`);
}

/**
 * Publishes a release into `<root>/v<version>/` with the real release code (publishRelease), so
 * tests exercise the same layout, archive and checksums format as a real build.
 */
export async function makeRelease(
  root: string,
  version: string,
  executable: Uint8Array = fakeExecutable(version),
): Promise<string> {
  const dir = join(root, `v${version}`);
  await publishRelease({ outDir: dir, target: hostTarget, executable, metadata: { version } });
  return dir;
}

/** Replaces the archive's checksum with another valid-looking one, as a tampered release would have. */
export async function tamperChecksum(releaseDir: string): Promise<void> {
  const file = join(releaseDir, CHECKSUMS_FILE);
  const text = await readFile(file, 'utf8');
  await writeFile(
    file,
    text.replace(
      /^([0-9a-f]{64})( {2}runner-[^\n]+\.tar\.gz)$/m,
      (_m, _hex: string, rest: string) => `${'0'.repeat(64)}${rest}`,
    ),
  );
}
