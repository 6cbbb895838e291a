import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { ENGINES_ROOT, ownerLive, ownerTag, withEnginesLock } from './owned.js';

/**
 * A Linux bridge of one private engine (its `--bridge`): the engine's default network, shared with
 * nobody. (dockerd must never run with `--bridge=none`: it then deletes the machine's `docker0`.)
 *
 * Bridge `rnf-<k>` has the subnet 10.213.<k>.0/24 and belongs to whoever holds the claim file
 * ENGINES_ROOT/subnets/<k> (its process and start time in it): claims are taken and swept under
 * withEnginesLock, so two processes never pick the same subnet and a sweep never deletes the bridge
 * of a live process; a claim whose process is gone marks its bridge as a leftover.
 */
export interface Bridge {
  /** `rnf-<k>`: short (Linux allows 15 characters), its subnet in its name. */
  name: string;
  /** 10.213.<k>.0/24 */
  subnet: string;
  /** 10.213.<k>.1: the bridge's own address, the containers' gateway (this machine, seen from them). */
  gateway: string;
}

export const BRIDGE_PREFIX = 'rnf-';
const BRIDGE_NAME = /^rnf-(\d+)$/;
/** Outside Docker's default address pools (172.17-31/16, 192.168/16). */
const NET = [10, 213] as const;
const CLAIMS = join(ENGINES_ROOT, 'subnets');

interface Claim {
  owner: string;
  dir: string;
}

/** Makes a bridge on a free /24 for the engine in `dir`. */
export async function createBridge(dir: string): Promise<Bridge> {
  const k = await withEnginesLock(async () => {
    const k = await freeSubnet();
    await writeFile(claimFile(k), JSON.stringify({ owner: ownerTag(), dir } satisfies Claim));
    return k;
  });
  const bridge = bridgeOf(k);
  try {
    // Holding the claim, a bridge of that name is a dead run's: ours to replace.
    if (await bridgeExists(bridge.name)) await ip(['link', 'del', bridge.name]);
    await ip(['link', 'add', bridge.name, 'type', 'bridge']);
    await ip(['addr', 'add', `${bridge.gateway}/24`, 'dev', bridge.name]);
    await ip(['link', 'set', bridge.name, 'up']);
  } catch (err) {
    await deleteBridge(bridge);
    throw err;
  }
  return bridge;
}

/** Deletes our bridge and gives its subnet back. */
export async function deleteBridge(bridge: Bridge): Promise<void> {
  const k = Number(BRIDGE_NAME.exec(bridge.name)?.[1]);
  await withEnginesLock(async () => {
    const claim = await readClaim(k);
    if (claim?.owner !== ownerTag()) return;
    if (await bridgeExists(bridge.name)) await ip(['link', 'del', bridge.name]);
    await rm(claimFile(k), { force: true });
  });
}

export async function bridgeExists(name: string): Promise<boolean> {
  const { exitCode } = await execa('ip', ['link', 'show', 'dev', name], { reject: false, stdin: 'ignore' });
  return exitCode === 0;
}

/** Names of all bridges on the machine. */
export async function bridgeNames(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-j', 'link', 'show', 'type', 'bridge'], { stdin: 'ignore' });
  return (JSON.parse(stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
}

/**
 * Deletes the bridges of processes that are gone: a claim whose owner is dead, a `rnf-<k>` bridge
 * without a claim. Call under withEnginesLock. Returns the bridges deleted.
 */
export async function sweepDeadBridges(): Promise<string[]> {
  const swept: string[] = [];
  const claimed = new Set<number>();
  for (const file of await readdir(CLAIMS).catch(() => [] as string[])) {
    const k = Number(file);
    const claim = await readClaim(k);
    if (claim && ownerLive(claim.owner)) {
      claimed.add(k);
      continue;
    }
    const { name } = bridgeOf(k);
    if (await bridgeExists(name)) {
      await ip(['link', 'del', name]);
      swept.push(name);
    }
    await rm(claimFile(k), { force: true });
  }
  for (const name of await bridgeNames()) {
    const k = Number(BRIDGE_NAME.exec(name)?.[1]);
    if (Number.isNaN(k) || claimed.has(k)) continue;
    await ip(['link', 'del', name]);
    swept.push(name);
  }
  return swept;
}

function bridgeOf(k: number): Bridge {
  const prefix = `${NET[0]}.${NET[1]}.${k}`;
  return { name: `${BRIDGE_PREFIX}${k}`, subnet: `${prefix}.0/24`, gateway: `${prefix}.1` };
}

function claimFile(k: number): string {
  return join(CLAIMS, String(k));
}

async function readClaim(k: number): Promise<Claim | undefined> {
  try {
    return JSON.parse(await readFile(claimFile(k), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

/** A k whose /24 no live claim holds and no address or route of this machine overlaps. */
async function freeSubnet(): Promise<number> {
  await mkdir(CLAIMS, { recursive: true });
  const used = await networksInUse();
  for (let k = 1; k < 255; k++) {
    const base = ((NET[0] << 24) | (NET[1] << 16) | (k << 8)) >>> 0;
    if (used.some((n) => overlaps(n, { base, bits: 24 }))) continue;
    const claim = await readClaim(k);
    if (claim && ownerLive(claim.owner)) continue;
    return k;
  }
  throw new Error(`no free /24 left in ${NET.join('.')}.0.0/16 for a private engine's bridge`);
}

interface Net {
  base: number;
  bits: number;
}

/** Every IPv4 network an interface address or a route of this machine covers. */
async function networksInUse(): Promise<Net[]> {
  const nets: Net[] = [];
  const addrs = await execa('ip', ['-j', '-4', 'addr'], { stdin: 'ignore' });
  type Link = { ifname: string; addr_info?: { local: string; prefixlen: number }[] };
  for (const link of JSON.parse(addrs.stdout || '[]') as Link[]) {
    // A dead run's bridge still has its address: its subnet is free once its claim is.
    if (BRIDGE_NAME.test(link.ifname)) continue;
    for (const a of link.addr_info ?? []) nets.push({ base: toInt(a.local), bits: a.prefixlen });
  }
  const routes = await execa('ip', ['-j', '-4', 'route'], { stdin: 'ignore' });
  for (const r of JSON.parse(routes.stdout || '[]') as { dst: string; dev?: string }[]) {
    if (r.dst === 'default' || (r.dev && BRIDGE_NAME.test(r.dev))) continue;
    const [addr = '', bits = '32'] = r.dst.split('/');
    nets.push({ base: toInt(addr), bits: Number(bits) });
  }
  return nets;
}

function toInt(addr: string): number {
  return addr.split('.').reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
}

function overlaps(a: Net, b: Net): boolean {
  const bits = Math.min(a.bits, b.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}

async function ip(args: string[]): Promise<void> {
  await execa('ip', args, { stdin: 'ignore' });
}
