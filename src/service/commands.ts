import { execa } from 'execa';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * How the service code runs systemctl, launchctl, journalctl, getent and useradd. Injected so tests
 * install into a temp root and assert the calls instead of touching the host's service manager.
 */
export interface CommandRunner {
  /** Runs to completion with output captured; a non-zero exit is returned, not thrown. */
  run(command: string, args: readonly string[]): Promise<CommandResult>;
  /** Runs attached to this terminal (status, logs -f); resolves with the exit code. */
  attach(command: string, args: readonly string[]): Promise<number>;
}

export const hostCommands: CommandRunner = {
  async run(command, args) {
    const r = await execa(command, args, { reject: false, stdin: 'ignore' });
    if (r.failed && r.exitCode === undefined) throw new Error(`cannot run ${command}: ${r.shortMessage}`);
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  },
  async attach(command, args) {
    const r = await execa(command, args, { reject: false, stdio: 'inherit' });
    if (r.failed && r.exitCode === undefined) throw new Error(`cannot run ${command}: ${r.shortMessage}`);
    return r.exitCode ?? 1;
  },
};

/** Runs and throws with the command's own stderr when it fails. */
export async function runChecked(
  runner: CommandRunner,
  command: string,
  args: readonly string[],
): Promise<string> {
  const r = await runner.run(command, args);
  if (r.exitCode !== 0) {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ');
    throw new Error(
      `\`${[command, ...args].join(' ')}\` failed (exit ${r.exitCode})${detail ? `: ${detail}` : ''}`,
    );
  }
  return r.stdout;
}
