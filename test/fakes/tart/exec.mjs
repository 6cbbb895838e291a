// `tart exec [-i] [-t] <vm> <command…>`: runs the command on the host as if inside the VM. It fails as the
// real one does until the VM runs and its guest agent answers (FAKE_TART_BOOT_MS after `run`). The
// command sees a per-VM HOME and TMPDIR (the guest's own filesystem) and a minimal environment, not
// the daemon's: nothing leaks into the "guest" that a real VM would not have.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.mjs';
import { TartExit } from './errors.mjs';
import { GUEST_TAG, guestRoot, recordGroup } from './guests.mjs';
import { open, runInfo } from './store.mjs';

export function exec(argv) {
  const { opts, pos, rest } = parseArgs('exec', argv, {
    positionals: ['name'],
    rest: 'command',
    options: { interactive: 'flag', tty: 'flag' },
    short: { i: 'interactive', t: 'tty' },
  });
  const name = pos[0];
  const dir = open(name);
  const info = runInfo(dir);
  if (!info) throw new TartExit(2, `VM "${name}" is not running`);
  if (!info.agent || Date.now() < info.startedAt + info.bootMs) {
    throw new TartExit(
      1,
      'Failed to connect to the VM using its control socket: connection refused, is the Tart Guest Agent running?',
    );
  }
  const root = guestRoot(dir);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    TMPDIR: join(root, 'tmp'),
    USER: 'admin',
    [GUEST_TAG]: info.token,
  };
  fs.mkdirSync(env.HOME, { recursive: true });
  fs.mkdirSync(env.TMPDIR, { recursive: true });

  return new Promise((resolve) => {
    const child = spawn(rest[0], rest.slice(1), {
      cwd: env.HOME,
      env,
      detached: true,
      stdio: [opts.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    });
    if (child.pid) recordGroup(dir, child.pid);
    // Our own end (the daemon cancelling us) closes the session: the agent kills the command.
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
        process.exit(130);
      });
    }
    child.on('error', (err) => {
      process.stderr.write(`${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      if (code !== null) return resolve(code);
      if (!runInfo(dir)) {
        process.stderr.write(`Failed to execute command: VM "${name}" stopped\n`);
        return resolve(1);
      }
      resolve(128 + (signal === 'SIGKILL' ? 9 : 15));
    });
  });
}
