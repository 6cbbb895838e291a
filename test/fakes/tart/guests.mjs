// Processes "inside" a fake VM: `tart exec` runs commands on the host, tagged with the VM's run token
// in their environment. When the VM stops, every tagged process dies, as everything in a real guest
// does. On Linux the tag is found in /proc/<pid>/environ, which follows daemonised children
// (`nohup … &`); elsewhere we fall back to the process groups `exec` recorded.
import * as fs from 'node:fs';
import { join } from 'node:path';

export const GUEST_TAG = 'FAKE_TART_GUEST';

export function guestRoot(dir) {
  return join(dir, '.fake-guest');
}

export function recordGroup(dir, pgid) {
  fs.mkdirSync(guestRoot(dir), { recursive: true });
  fs.appendFileSync(join(guestRoot(dir), 'pgids'), `${pgid}\n`);
}

export function killGuests(dir, token) {
  if (!token) return;
  if (fs.existsSync('/proc/self/environ')) {
    const needle = `${GUEST_TAG}=${token}`;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      let env;
      try {
        env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      } catch {
        continue;
      }
      if (env.split('\0').includes(needle)) signal(Number(entry), 'SIGKILL');
    }
    return;
  }
  let groups = [];
  try {
    groups = fs
      .readFileSync(join(guestRoot(dir), 'pgids'), 'utf8')
      .split('\n')
      .filter(Boolean);
  } catch {}
  for (const g of groups) signal(-Number(g), 'SIGKILL');
  fs.rmSync(join(guestRoot(dir), 'pgids'), { force: true });
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {}
}
