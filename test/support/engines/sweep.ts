import { rm } from 'node:fs/promises';
import { sweepDeadBridges } from './bridge.js';
import { deadOwnedDirs, killProcessesUnder, unmountUnder, withEnginesLock } from './owned.js';

export interface Swept {
  /** Engine directories of processes that are gone. */
  dirs: string[];
  bridges: string[];
}

/**
 * Removes what private engines of dead processes left: their dockerd, containerd, shims, containers
 * and sshd (killed), mounts, bridges and directories. Live processes' engines are never touched.
 */
export function sweepLeftovers(): Promise<Swept> {
  return withEnginesLock(async () => {
    const dirs = deadOwnedDirs();
    for (const dir of dirs) {
      await killProcessesUnder(dir);
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    }
    return { dirs, bridges: await sweepDeadBridges() };
  });
}

let once: Promise<Swept> | undefined;

/** sweepLeftovers, once per process: before this process starts its first engine. */
export function sweepLeftoversOnce(): Promise<Swept> {
  once ??= sweepLeftovers();
  return once;
}
