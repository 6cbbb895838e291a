// `tart prune`: removes OCI cache entries (never local VMs unless --entries vms) by age and space budget.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.mjs';
import { UsageError } from './errors.mjs';
import * as s from './store.mjs';

export function prune(argv) {
  const { opts } = parseArgs('prune', argv, {
    positionals: [],
    options: {
      entries: 'value',
      'older-than': 'value',
      'space-budget': 'value',
      'cache-budget': 'value',
      gc: 'flag',
    },
  });
  const entries = opts.entries ?? 'caches';
  const olderThan = opts['older-than'] === undefined ? undefined : Number(opts['older-than']);
  const budget = opts['space-budget'] ?? opts['cache-budget'];
  if (olderThan === undefined && budget === undefined && !opts.gc) {
    throw new UsageError('prune', 'at least one pruning criteria must be specified');
  }
  let prunables;
  if (entries === 'caches')
    prunables = s.remoteEntries().filter(([, dir]) => !fs.lstatSync(dir).isSymbolicLink());
  else if (entries === 'vms')
    prunables = s
      .localNames()
      .map((n) => [n, s.vmDir(n)])
      .filter(([, d]) => !s.runInfo(d));
  else throw new UsageError('prune', 'unsupported --entries value, please specify either "caches" or "vms"');

  const accessed = (dir) => fs.statSync(dir).mtimeMs;
  const victims = new Set();
  if (olderThan !== undefined) {
    const cutoff = Date.now() - olderThan * 86_400_000;
    for (const [, dir] of prunables) if (accessed(dir) <= cutoff) victims.add(dir);
  }
  if (budget !== undefined) {
    let left = Number(budget) * 1024 ** 3;
    for (const [, dir] of [...prunables].sort((a, b) => accessed(b[1]) - accessed(a[1]))) {
      const size = ['config.json', 'disk.img', 'nvram.bin'].reduce(
        (n, f) => n + fs.statSync(join(dir, f)).size,
        0,
      );
      if (size <= left) left -= size;
      else victims.add(dir);
    }
  }
  for (const dir of victims) fs.rmSync(dir, { recursive: true, force: true });
}
