// Entry point of the fake `tart` (see ./tart and test/fakes/tart/index.ts). Every invocation is appended
// to the calls log (FAKE_TART_CALLS, default $TART_HOME/.calls.jsonl) with its argv and the TART_HOME it
// saw, so tests assert exact CLI sequences and that no secret ever reached a command line.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { TartExit } from './errors.mjs';
import { exec } from './exec.mjs';
import { fault } from './faults.mjs';
import { prune } from './prune.mjs';
import { run, stop } from './run.mjs';
import { home } from './store.mjs';
import { clone, del, get, ip, list, pull, rename, set } from './vms.mjs';

const commands = { clone, set, run, stop, delete: del, list, pull, exec, prune, rename, get, ip };

const [sub, ...rest] = process.argv.slice(2);
const log = process.env.FAKE_TART_CALLS || join(home(), '.calls.jsonl');
fs.appendFileSync(
  log,
  `${JSON.stringify({ t: Date.now(), pid: process.pid, home: process.env.TART_HOME ?? null, argv: process.argv.slice(2) })}\n`,
);

try {
  if (sub === '--version') {
    console.log('2.99.0-fake');
    process.exit(0);
  }
  if (sub !== undefined && fault('HANG') === sub) {
    // Alive and silent until killed, as a wedged tart is.
    setInterval(() => {}, 60_000);
    await new Promise(() => {});
  }
  const command = commands[sub];
  if (!command)
    throw new TartExit(
      64,
      `Error: Unknown subcommand or plugin name '${sub ?? ''}'\nUsage: tart <subcommand>`,
    );
  const code = await command(rest);
  process.exitCode = typeof code === 'number' ? code : 0;
} catch (err) {
  if (err instanceof TartExit) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.code);
  }
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
}
