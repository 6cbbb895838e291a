// VM storage of the fake tart: the same layout as the real one under $TART_HOME, so code that edits
// `vms/<name>/config.json` (deterministic MACs) works against both.
//   vms/<name>/{config.json,disk.img,nvram.bin}   local VMs
//   cache/OCI/<host>/<namespace>/<tag>            pulled images (plus a sha256 alias, as tart lists both)
// Fake-only state lives in dot files inside the VM directory: `.fake-run.json` (pid of `tart run`,
// boot time) and `.fake-guest/` (the "guest" filesystem and the process groups running in it).
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TartExit } from './errors.mjs';

export function home() {
  const dir = process.env.TART_HOME || join(homedir(), '.tart');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const vmsDir = () => join(home(), 'vms');
export const ociDir = () => join(home(), 'cache', 'OCI');

/** Real tart treats a name it can parse as `host/namespace[:tag|@digest]` as remote (OCI). */
export function isRemote(name) {
  return name.includes('/');
}

export function parseRemote(name) {
  const m = /^([^/]+)\/(.+?)(?:(@sha256:[0-9a-f]+)|:([^/:@]+))?$/.exec(name);
  if (!m) throw new TartExit(1, `failed to parse remote name: ${name}`);
  const [, host, namespace, digest, tag] = m;
  return { host, namespace, reference: digest ? digest.slice(1) : (tag ?? 'latest') };
}

export function remoteDir(name) {
  const r = parseRemote(name);
  return join(ociDir(), r.host, r.namespace, r.reference);
}

export function vmDir(name) {
  return isRemote(name) ? remoteDir(name) : join(vmsDir(), name);
}

export function exists(name) {
  const dir = vmDir(name);
  return ['config.json', 'disk.img', 'nvram.bin'].every((f) => fs.existsSync(join(dir, f)));
}

/** Opens a VM like VMStorageHelper.open: missing → exit 2 with tart's message; touches the access date. */
export function open(name) {
  if (!exists(name)) throw new TartExit(2, `the specified VM "${name}" does not exist`);
  const dir = vmDir(name);
  const now = new Date();
  fs.utimesSync(dir, now, now);
  return dir;
}

export function randomMac() {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfc) | 0x02; // locally administered, unicast (VZMACAddress.randomLocallyAdministered)
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function newConfig() {
  return {
    version: 1,
    os: 'darwin',
    arch: 'arm64',
    cpuCountMin: 4,
    cpuCount: 4,
    memorySizeMin: 8 * 1024 ** 3,
    memorySize: 8 * 1024 ** 3,
    macAddress: randomMac(),
    display: { width: 1024, height: 768 },
    diskFormat: 'raw',
  };
}

export function readConfig(dir) {
  return JSON.parse(fs.readFileSync(join(dir, 'config.json'), 'utf8'));
}

export function writeConfig(dir, config) {
  fs.writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
}

/** Creates an image in the OCI cache and its digest alias, as `tart pull` does. */
export function createRemote(name) {
  const dir = remoteDir(name);
  fs.mkdirSync(dir, { recursive: true });
  writeConfig(dir, newConfig());
  fs.writeFileSync(join(dir, 'disk.img'), 'fake disk');
  fs.writeFileSync(join(dir, 'nvram.bin'), 'fake nvram');
  const digest = `sha256:${createHash('sha256').update(name).digest('hex')}`;
  const alias = join(dir, '..', digest);
  if (!fs.existsSync(alias)) fs.symlinkSync(dir, alias);
}

/** The `tart run` record of a VM if its process is alive (tart reads the PID from an fcntl lock). */
export function runInfo(dir) {
  let info;
  try {
    info = JSON.parse(fs.readFileSync(join(dir, '.fake-run.json'), 'utf8'));
  } catch {
    return undefined;
  }
  return alive(info.pid) ? info : undefined;
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export function localNames() {
  try {
    return fs
      .readdirSync(vmsDir())
      .filter((n) => exists(n))
      .sort();
  } catch {
    return [];
  }
}

/** Every OCI cache entry as [name, dir], tags and digests alike (tart lists both). */
export function remoteEntries() {
  const out = [];
  const walk = (dir, parts) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === 'config.json') && parts.length >= 3) {
      const ref = parts.at(-1);
      const repo = parts.slice(0, -1).join('/');
      out.push([ref.startsWith('sha256:') ? `${repo}@${ref}` : `${repo}:${ref}`, dir]);
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() || e.isSymbolicLink()) walk(join(dir, e.name), [...parts, e.name]);
    }
  };
  walk(ociDir(), []);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** A tiny cross-process mutex (mkdir is atomic), for check-then-act sequences such as the VM limit. */
export function withLock(fn) {
  const lock = join(home(), '.fake-lock');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST' || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
