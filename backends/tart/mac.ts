import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Deterministic MAC addresses: `02:II:II:II:00:SS`, where II are three bytes of sha256(instance id)
 * and SS is the host slot + 1. 02 marks a locally administered unicast address.
 *
 * Why deterministic: macOS's NAT (bootpd) leases one address per MAC for a day, so random MACs on
 * ephemeral VMs exhaust the lease pool; a fixed set of N MACs reuses N leases. Why the slot: slots
 * are unique across every scale set of the process (see host.ts), so no two running VMs collide —
 * tart would otherwise silently randomise the second one. Why the instance bytes: two daemons on one
 * Mac (each with its own instance id) get disjoint address sets too.
 */
export function macFor(instanceId: string, slot: number): string {
  const id = createHash('sha256').update(instanceId).digest();
  const bytes = [0x02, id[0] ?? 0, id[1] ?? 0, id[2] ?? 0, 0x00, slot + 1];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The slot a MAC of ours encodes, or undefined for anyone else's. */
export function slotOfMac(instanceId: string, mac: string | undefined): number | undefined {
  if (!mac) return undefined;
  const last = Number.parseInt(mac.slice(-2), 16);
  if (!Number.isInteger(last) || last < 1) return undefined;
  return macFor(instanceId, last - 1) === mac.toLowerCase() ? last - 1 : undefined;
}

function configPath(home: string, vm: string): string {
  return join(home, 'vms', vm, 'config.json');
}

/**
 * Sets `macAddress` in the VM's config.json. The tart CLI can only randomise a MAC (`set --random-mac`),
 * so we edit the file it reads, before `tart run`, keeping every other key as tart wrote it.
 */
export async function writeMac(home: string, vm: string, mac: string): Promise<void> {
  const path = configPath(home, vm);
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  config.macAddress = mac;
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(config));
  await rename(tmp, path);
}
