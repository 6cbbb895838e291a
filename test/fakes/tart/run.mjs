// `tart run` blocks for the VM's lifetime, like the real one; `tart stop` ends it with SIGINT and
// escalates to SIGKILL after --timeout seconds.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.mjs';
import { TartExit, UsageError } from './errors.mjs';
import { flag, number } from './faults.mjs';
import { killGuests } from './guests.mjs';
import {
  alive,
  localNames,
  open,
  randomMac,
  readConfig,
  runInfo,
  vmDir,
  withLock,
  writeConfig,
} from './store.mjs';

const RUN_SPEC = {
  positionals: ['name'],
  options: {
    'no-graphics': 'flag',
    graphics: 'flag',
    'no-audio': 'flag',
    'no-clipboard': 'flag',
    nested: 'flag',
    suspendable: 'flag',
    serial: 'flag',
    'net-softnet': 'flag',
    'net-bridged': 'multi',
    dir: 'multi',
    disk: 'multi',
    'root-disk-opts': 'value',
  },
};

export function run(argv) {
  const { opts, pos } = parseArgs('run', argv, RUN_SPEC);
  if (opts.graphics && opts['no-graphics']) {
    throw new UsageError('run', '--graphics and --no-graphics are mutually exclusive');
  }
  const name = pos[0];
  if (name.includes('/')) throw new TartExit(2, `the specified VM "${name}" does not exist`);
  const dir = open(name);
  const token = randomUUID();
  withLock(() => {
    if (runInfo(dir)) throw new TartExit(2, `VM "${name}" is already running!`);
    const others = localNames().filter((n) => n !== name && runInfo(vmDir(n)));
    if (others.length >= number('VM_LIMIT', 2)) {
      throw new TartExit(
        1,
        `The number of VMs exceeds the system limit (other running VMs: ${others.join(', ')})`,
      );
    }
    const config = readConfig(dir);
    if (others.some((n) => readConfig(vmDir(n)).macAddress === config.macAddress)) {
      console.log('There is already a running VM with the same MAC address!');
      console.log('Resetting VM to assign a new MAC address...');
      writeConfig(dir, { ...config, macAddress: randomMac() });
    }
    const info = {
      pid: process.pid,
      token,
      startedAt: Date.now(),
      bootMs: number('BOOT_MS', 0),
      agent: !flag('NO_AGENT'),
    };
    fs.writeFileSync(join(dir, '.fake-run.json'), JSON.stringify(info));
  });

  const shutdown = (code) => {
    killGuests(dir, token);
    fs.rmSync(join(dir, '.fake-run.json'), { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => {
    console.log('Stopping VM...');
    shutdown(0);
  });
  process.on('SIGTERM', () => shutdown(143));
  const crashMs = number('RUN_EXIT_MS', -1);
  if (crashMs >= 0) {
    setTimeout(() => {
      console.error('fake: the VM crashed (FAKE_TART_RUN_EXIT_MS)');
      shutdown(1);
    }, crashMs);
  }
  // A deleted VM directory means the VM is gone; the interval also keeps this process alive.
  setInterval(() => {
    if (!fs.existsSync(dir)) shutdown(1);
  }, 500);
  return new Promise(() => {});
}

export async function stop(argv) {
  const { opts, pos } = parseArgs('stop', argv, {
    positionals: ['name'],
    options: { timeout: 'value' },
    short: { t: 'timeout' },
  });
  const name = pos[0];
  const dir = open(name);
  const info = runInfo(dir);
  if (!info) throw new TartExit(2, `VM "${name}" is not running`);
  if (flag('FAIL_STOP')) throw new TartExit(1, `failed to forcefully terminate the VM "${name}": fake fault`);
  try {
    process.kill(info.pid, 'SIGINT');
  } catch {}
  const deadline = Date.now() + Number(opts.timeout ?? 30) * 1000;
  while (alive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (alive(info.pid)) {
    process.kill(info.pid, 'SIGKILL');
    killGuests(dir, info.token);
    fs.rmSync(join(dir, '.fake-run.json'), { force: true });
  }
}
