// Storage commands of the fake tart: clone, set, delete, rename, pull, list, get, ip, prune.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.mjs';
import { TartExit, UsageError } from './errors.mjs';
import { flag } from './faults.mjs';
import * as s from './store.mjs';

const PULL_OPTS = { insecure: 'flag', concurrency: 'value', deduplicate: 'flag' };

export function clone(argv) {
  const { pos } = parseArgs('clone', argv, {
    positionals: ['source-name', 'new-name'],
    options: { ...PULL_OPTS, 'prune-limit': 'value' },
  });
  const [source, target] = pos;
  if (target.includes('/')) throw new UsageError('clone', '<new-name> should be a local name');
  if (flag('FAIL_CLONE')) throw new TartExit(1, 'fake: clone failed (FAKE_TART_FAIL_CLONE)');
  // The real clone pulls a missing OCI source implicitly.
  if (s.isRemote(source) && !s.exists(source)) pullRemote(source);
  const src = s.open(source);
  const tmp = join(s.home(), 'tmp', randomUUID());
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of ['config.json', 'disk.img', 'nvram.bin']) fs.copyFileSync(join(src, f), join(tmp, f));
  const config = s.readConfig(tmp);
  if (s.localNames().some((n) => s.readConfig(s.vmDir(n)).macAddress === config.macAddress)) {
    s.writeConfig(tmp, { ...config, macAddress: s.randomMac() });
  }
  fs.mkdirSync(s.vmsDir(), { recursive: true });
  // FileManager.replaceItemAt: an existing VM of that name is replaced.
  fs.rmSync(s.vmDir(target), { recursive: true, force: true });
  fs.renameSync(tmp, s.vmDir(target));
}

export function set(argv) {
  const { opts, pos } = parseArgs('set', argv, {
    positionals: ['name'],
    options: {
      cpu: 'value',
      memory: 'value',
      display: 'value',
      'display-refit': 'flag',
      'no-display-refit': 'flag',
      'random-mac': 'flag',
      'random-serial': 'flag',
      disk: 'value',
      'disk-size': 'value',
    },
  });
  if (pos[0].includes('/')) throw new TartExit(2, `the specified VM "${pos[0]}" does not exist`);
  const dir = s.open(pos[0]);
  if (flag('FAIL_SET')) throw new TartExit(1, 'fake: set failed (FAKE_TART_FAIL_SET)');
  const config = s.readConfig(dir);
  if (opts.cpu !== undefined) {
    const cpu = Number(opts.cpu);
    if (!Number.isInteger(cpu) || cpu < 0)
      throw new UsageError('set', `The value '${opts.cpu}' is invalid for '--cpu <cpu>'`);
    if (cpu < config.cpuCountMin) {
      throw new TartExit(1, `VM should have ${config.cpuCountMin} CPU cores at minimum (requested ${cpu})`);
    }
    config.cpuCount = cpu;
  }
  if (opts.memory !== undefined) {
    const bytes = Number(opts.memory) * 1024 * 1024;
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new UsageError('set', `The value '${opts.memory}' is invalid for '--memory <memory>'`);
    }
    if (bytes < config.memorySizeMin) {
      throw new TartExit(
        1,
        `VM should have ${config.memorySizeMin} bytes of memory at minimum (requested ${bytes})`,
      );
    }
    config.memorySize = bytes;
  }
  if (opts['random-mac']) config.macAddress = s.randomMac();
  s.writeConfig(dir, config);
}

export function del(argv) {
  const { pos } = parseArgs('delete', argv, { positionals: ['name'], variadic: true, options: {} });
  for (const name of pos) {
    if (!s.exists(name)) throw new TartExit(2, `the specified VM "${name}" does not exist`);
    const dir = s.vmDir(name);
    if (s.runInfo(dir)) throw new TartExit(1, `VM "${name}" is running`);
    if (flag('FAIL_DELETE')) throw new TartExit(1, `fake: delete failed (FAKE_TART_FAIL_DELETE)`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function rename(argv) {
  const { pos } = parseArgs('rename', argv, { positionals: ['name', 'new-name'], options: {} });
  const [name, target] = pos;
  if (target.includes('/')) throw new UsageError('rename', '<new-name> should be a local name');
  if (s.isRemote(name) || !s.exists(name)) {
    throw new UsageError('rename', `failed to rename a non-existent local VM: ${name}`);
  }
  if (s.exists(target)) {
    throw new UsageError(
      'rename',
      `failed to rename VM ${name}, target VM ${target} already exists, delete it first!`,
    );
  }
  fs.renameSync(s.vmDir(name), s.vmDir(target));
}

export function pull(argv) {
  const { pos } = parseArgs('pull', argv, { positionals: ['remote-name'], options: PULL_OPTS });
  const name = pos[0];
  if (!s.isRemote(name) && s.exists(name)) {
    console.log(`"${name}" is a local image, nothing to pull here!`);
    return;
  }
  s.parseRemote(name);
  console.error(`pulling ${name}...`);
  pullRemote(name);
}

function pullRemote(name) {
  if (flag('FAIL_PULL')) throw new TartExit(1, `fake: pull of ${name} failed (FAKE_TART_FAIL_PULL)`);
  s.createRemote(name);
}

function info(source, name, dir) {
  const running = Boolean(s.runInfo(dir));
  return {
    Source: source,
    Name: name,
    Disk: 50,
    Size: 20,
    Accessed: fs
      .statSync(dir)
      .mtime.toISOString()
      .replace(/\.\d+Z$/, 'Z'),
    Running: running,
    State: running ? 'running' : 'stopped',
  };
}

export function list(argv) {
  const { opts } = parseArgs('list', argv, {
    positionals: [],
    options: { source: 'value', format: 'value', quiet: 'flag' },
    short: { q: 'quiet' },
  });
  if (opts.source && !['local', 'oci'].includes(opts.source)) {
    throw new UsageError('list', `'${opts.source}' is not a valid <source>`);
  }
  const format = opts.format ?? 'text';
  if (!['text', 'json'].includes(format))
    throw new UsageError('list', `The value '${format}' is invalid for '--format <format>'`);
  const infos = [];
  if (!opts.source || opts.source === 'local') {
    for (const n of s.localNames()) infos.push(info('local', n, s.vmDir(n)));
  }
  if (!opts.source || opts.source === 'oci') {
    for (const [n, dir] of s.remoteEntries()) infos.push(info('OCI', n, dir));
  }
  if (opts.quiet) for (const i of infos) console.log(i.Name);
  else if (format === 'json') console.log(JSON.stringify(infos, null, 2));
  else for (const i of infos) console.log([i.Source, i.Name, i.Disk, i.Size, i.Accessed, i.State].join('\t'));
}

export function get(argv) {
  const { opts, pos } = parseArgs('get', argv, { positionals: ['name'], options: { format: 'value' } });
  const dir = s.open(pos[0]);
  const c = s.readConfig(dir);
  const running = Boolean(s.runInfo(dir));
  const out = {
    OS: c.os,
    CPU: c.cpuCount,
    Memory: c.memorySize / 1024 / 1024,
    Disk: 50,
    DiskFormat: c.diskFormat,
    Size: '20.000',
    Display: `${c.display.width}x${c.display.height}`,
    Running: running,
    State: running ? 'running' : 'stopped',
  };
  if (opts.format === 'json') console.log(JSON.stringify(out, null, 2));
  else
    console.log(
      Object.entries(out)
        .map(([k, v]) => `${k}\t${v}`)
        .join('\n'),
    );
}

export function ip(argv) {
  const { pos } = parseArgs('ip', argv, {
    positionals: ['name'],
    options: { wait: 'value', resolver: 'value' },
  });
  const dir = s.open(pos[0]);
  if (!s.runInfo(dir)) throw new TartExit(1, 'no IP address found, is your VM running?');
  const last = Number.parseInt(s.readConfig(dir).macAddress.split(':')[5], 16);
  console.log(`192.168.64.${(last % 250) + 2}`);
}
