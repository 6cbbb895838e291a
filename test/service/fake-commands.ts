import type { CommandResult, CommandRunner } from '../../src/service/commands.js';

export interface Call {
  command: string;
  args: string[];
  attached: boolean;
}

/**
 * Records every command the service code runs instead of running it. `users`/`groups` answer getent
 * like NSS would; useradd adds to `users`, so a created account is found by the next lookup.
 */
export class FakeCommands implements CommandRunner {
  readonly calls: Call[] = [];
  readonly users = new Map<string, { uid: number; gid: number }>();
  readonly groups = new Set<string>();
  /** Exit codes to return for a command line prefix, e.g. 'systemctl disable' → 5. */
  readonly failures = new Map<string, number>();

  async run(command: string, args: readonly string[]): Promise<CommandResult> {
    this.calls.push({ command, args: [...args], attached: false });
    if (command === 'getent' && args[0] === 'passwd') {
      const u = this.users.get(args[1]!);
      return u
        ? {
            exitCode: 0,
            stdout: `${args[1]}:x:${u.uid}:${u.gid}::/var/lib/runner:/usr/sbin/nologin\n`,
            stderr: '',
          }
        : { exitCode: 2, stdout: '', stderr: '' };
    }
    if (command === 'getent' && args[0] === 'group') {
      return this.groups.has(args[1]!)
        ? { exitCode: 0, stdout: `${args[1]}:x:999:\n`, stderr: '' }
        : { exitCode: 2, stdout: '', stderr: '' };
    }
    if (command === 'useradd')
      this.users.set(args.at(-1)!, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    const line = [command, ...args].join(' ');
    for (const [prefix, code] of this.failures) {
      if (line.startsWith(prefix))
        return { exitCode: code, stdout: '', stderr: `${command}: simulated failure` };
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  async attach(command: string, args: readonly string[]): Promise<number> {
    this.calls.push({ command, args: [...args], attached: true });
    return 0;
  }

  /** Calls other than the getent lookups, as command lines. */
  actions(): string[] {
    return this.calls.filter((c) => c.command !== 'getent').map((c) => [c.command, ...c.args].join(' '));
  }
}
