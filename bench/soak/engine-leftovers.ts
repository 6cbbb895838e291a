import { readdirSync, readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { execa } from 'execa';

/**
 * An engine restarted while it was starting a container can leave that container's root filesystem
 * mounted: dockerd loses track of the mount across its restart, every removal then fails with
 * `driver "overlay2" failed to remove root filesystem: unlinkat …/merged: device or resource busy`,
 * and Docker marks the container dead (seen once in 20 runs of the suite here; moby's long-standing
 * "device or resource busy" family, e.g. moby/moby#32461). The daemon cannot unmount on the engine's
 * host and must not try; it keeps retrying the removal with backoff and says why each time. An
 * operator unmounts the leftover; so does the soak, once per such container, and then leaves the
 * removal to the daemon's own next retry. Returns what it did, one line per action.
 */
export async function releaseDeadRootfs(
  docker: Docker,
  containers: readonly Docker.ContainerInfo[],
): Promise<string[]> {
  const dead = containers.filter((c) => c.State === 'dead');
  if (dead.length === 0) return [];
  // Mount points as /proc/self/mounts lists them (the engines run in this process's mount namespace).
  const mounted = new Set(
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1])
      .filter((p): p is string => p !== undefined),
  );
  const released: string[] = [];
  for (const c of dead) {
    const info = await docker
      .getContainer(c.Id)
      .inspect()
      .catch(() => undefined);
    // dockerode types GraphDriver.Data for devicemapper; overlay2 answers MergedDir there.
    const data = info?.GraphDriver?.Data as { MergedDir?: string } | undefined;
    const merged = data?.MergedDir;
    // What holds it: a process left from the start the restart cut short (a runc init in the
    // container's cgroup, rooted in that filesystem) and the mount itself. The process goes, then the
    // mount (lazily, so a reference still held elsewhere cannot keep it).
    const pids = processesOfContainer(c.Id);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (pids.length > 0) released.push(`${c.Id.slice(0, 12)}: killed ${pids.join(', ')}`);
    if (!merged || !mounted.has(merged)) continue;
    const r = await execa('umount', ['-l', merged], { reject: false, stdin: 'ignore' });
    if (r.exitCode === 0) released.push(`${c.Id.slice(0, 12)}: unmounted ${merged}`);
  }
  return released;
}

/** Processes in the container's cgroup (Docker names it after the container's full id). */
function processesOfContainer(id: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(id)) pids.push(Number(entry));
    } catch {
      // Exited, or not ours to read.
    }
  }
  return pids;
}
