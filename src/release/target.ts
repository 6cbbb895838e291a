/**
 * The OS/arch pairs a release is published for, named the way the release assets and install.sh name
 * them (`runner-linux-x64.tar.gz`). Node's `process.arch` already says x64/arm64, so only the OS needs
 * checking.
 */
export const RELEASE_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

export function releaseTarget(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): ReleaseTarget | undefined {
  const name = `${platform}-${arch}`;
  return (RELEASE_TARGETS as readonly string[]).includes(name) ? (name as ReleaseTarget) : undefined;
}

/** The archive holding the single `runner` executable. */
export function archiveName(target: ReleaseTarget): string {
  return `runner-${target}.tar.gz`;
}

/** The bare executable, published next to the archive for people who download by hand. */
export function binaryName(target: ReleaseTarget): string {
  return `runner-${target}`;
}

/** The name of the executable inside the archive. */
export const ARCHIVE_MEMBER = 'runner';
