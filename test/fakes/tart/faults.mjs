// Fault switches. Each is read from the environment (FAKE_TART_<NAME>) or, so a test can flip it while
// the daemon keeps spawning tart with the env it already has, from $TART_HOME/.fake-faults.json
// ({ "FAIL_SET": "1" }). Names:
//   FAIL_CLONE, FAIL_SET, FAIL_PULL, FAIL_STOP, FAIL_DELETE   the command exits 1
//   BOOT_MS       ms after `run` before `exec` reaches the guest agent (default 0)
//   NO_AGENT      the guest agent never answers (boot never completes)
//   RUN_EXIT_MS   `run` crashes (exit 1) this many ms after starting: a VM that dies on its own
//   VM_LIMIT      running VMs allowed at once, as Apple's limit (default 2)
//   HANG          a subcommand (e.g. "list") that never exits: a wedged tart or Virtualization.framework
import * as fs from 'node:fs';
import { join } from 'node:path';
import { home } from './store.mjs';

function fileFaults() {
  try {
    return JSON.parse(fs.readFileSync(join(home(), '.fake-faults.json'), 'utf8'));
  } catch {
    return {};
  }
}

/** The fault's value as a string, or undefined when unset ('' and '0' count as unset for flags). */
export function fault(name) {
  const env = process.env[`FAKE_TART_${name}`];
  if (env !== undefined && env !== '') return env;
  const v = fileFaults()[name];
  return v === undefined || v === null ? undefined : String(v);
}

export function flag(name) {
  const v = fault(name);
  return v !== undefined && v !== '0' && v !== 'false';
}

export function number(name, fallback) {
  const v = fault(name);
  return v === undefined ? fallback : Number(v);
}
