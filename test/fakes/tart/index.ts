import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil } from '../../../src/util/poll-until.js';

/** Directory holding the fake `tart` executable: prepend it to PATH. */
export const FAKE_TART_DIR = dirname(fileURLToPath(import.meta.url));
export const FAKE_TART_BIN = join(FAKE_TART_DIR, 'tart');

/** One line of the calls log: every invocation of the fake, in order. */
export interface TartCall {
  t: number;
  pid: number;
  /** TART_HOME as the invocation saw it (null: unset). */
  home: string | null;
  argv: string[];
}

export interface FakeVm {
  name: string;
  running: boolean;
  mac: string;
  /** PID of its `tart run` process while running. */
  pid?: number;
}

export type FaultName =
  | 'FAIL_CLONE'
  | 'FAIL_SET'
  | 'FAIL_PULL'
  | 'FAIL_STOP'
  | 'FAIL_DELETE'
  | 'BOOT_MS'
  | 'NO_AGENT'
  | 'RUN_EXIT_MS'
  | 'VM_LIMIT'
  | 'HANG';

/** Test-side view of a fake tart home: seeds images, flips faults, reads the calls log and VM state. */
export class FakeTart {
  constructor(
    readonly home: string,
    readonly callsLog: string,
  ) {}

  calls(): TartCall[] {
    if (!existsSync(this.callsLog)) return [];
    return readFileSync(this.callsLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TartCall);
  }

  /** Calls as `tart …` strings, e.g. `clone ghcr.io/x:1 vm`. */
  commands(): string[] {
    return this.calls().map((c) => c.argv.join(' '));
  }

  /** Runs the fake itself (not logged in the calls log), e.g. to seed an image or create a user's VM. */
  tart(...args: string[]): string {
    return execFileSync(FAKE_TART_BIN, args, {
      env: { ...process.env, TART_HOME: this.home, FAKE_TART_CALLS: join(this.home, '.setup-calls.jsonl') },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Faults read by every later invocation (see faults.mjs); replaces the previous set. */
  setFaults(faults: Partial<Record<FaultName, string | number | boolean>>): void {
    const tmp = join(this.home, '.fake-faults.json.tmp');
    writeFileSync(tmp, JSON.stringify(faults));
    renameSync(tmp, join(this.home, '.fake-faults.json'));
  }

  vms(): FakeVm[] {
    const dir = join(this.home, 'vms');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => existsSync(join(dir, n, 'config.json')))
      .sort()
      .map((name) => {
        const config = JSON.parse(readFileSync(join(dir, name, 'config.json'), 'utf8')) as {
          macAddress: string;
        };
        const pid = runPid(join(dir, name));
        return { name, mac: config.macAddress, running: pid !== undefined, ...(pid ? { pid } : {}) };
      });
  }

  /** The VM dies on its own (host-side crash): its `tart run` exits non-zero and its guest processes die. */
  killVm(name: string): void {
    const pid = runPid(join(this.home, 'vms', name));
    if (pid === undefined) throw new Error(`VM ${name} is not running`);
    process.kill(pid, 'SIGTERM');
  }

  /** Deletes VMs behind tart's back (a test's cleanup): stops their `tart run`, waits, removes the directory. */
  async removeVms(prefix: string): Promise<void> {
    const doomed = this.vms().filter((v) => v.name.startsWith(prefix));
    for (const vm of doomed) if (vm.pid) process.kill(vm.pid, 'SIGTERM');
    await pollUntil(() => !this.vms().some((v) => v.name.startsWith(prefix) && v.running), {
      timeout: 10_000,
      what: `VMs ${prefix}* to stop`,
    });
    for (const vm of doomed) rmSync(join(this.home, 'vms', vm.name), { recursive: true, force: true });
  }

  /** Stops every VM still running: test cleanup, so no `tart run` outlives its test. */
  killAll(): void {
    for (const vm of this.vms()) if (vm.pid) process.kill(vm.pid, 'SIGTERM');
  }
}

function runPid(vmDir: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(join(vmDir, '.fake-run.json'), 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
