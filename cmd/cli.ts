import { Command } from 'commander';
import { LINGER_MS } from '../src/daemon/exit-deadline.js';
import { RunnerError } from '../src/kernel/errors.js';
import { tolerateBrokenStdio } from '../src/log-destination.js';
import { VERSION } from '../src/version.js';
import { registerDoctor } from './doctor.js';
import { registerHosts } from './hosts.js';
import { registerInit } from './init.js';
import { registerRun } from './run.js';
import { registerService } from './service.js';
import { registerStatus } from './status.js';
import { registerUpdate } from './update.js';
import { registerValidate } from './validate.js';
import { registerVersion } from './version.js';

// First: a reader of our output that goes away (`| head`, a dead `tee`) must never end a command.
tolerateBrokenStdio();

/**
 * The CLI, loaded by the bin (runner.ts) once the Node version check passed. Each command lives in its
 * own file and registers itself here; commands parse input and call src/.
 */
const program = new Command('runner')
  .description('Autoscale ephemeral GitHub Actions runners on Docker, Tart or Dedalus.')
  // Options of `runner` itself only before the command: `runner update --version 1.4.2` is update's
  // own --version, not this one.
  .enablePositionalOptions()
  .version(VERSION, '-V, --version', 'print the version number')
  .showHelpAfterError('(add --help for usage)')
  .configureHelp({ sortSubcommands: false });

registerInit(program);
registerRun(program);
registerValidate(program);
registerStatus(program);
registerHosts(program);
registerDoctor(program);
registerService(program);
registerVersion(program);
registerUpdate(program);

await program.parseAsync(process.argv).catch(reportFatal);
// The command is over once its action returned. Whatever is still open then (a request a wedged
// engine never answered, a forgotten timer) must not keep the process alive: exit if it would linger.
setTimeout(() => process.exit(), LINGER_MS).unref();

/**
 * An error no command handled. Ours (RunnerError) say what went wrong and what to do in their message:
 * one line, no stack. Anything else is a bug, and its stack is what a bug report needs.
 */
function reportFatal(err: unknown): void {
  const text =
    err instanceof RunnerError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`error: ${text}\n`);
  process.exitCode = 1;
  // A command that failed half-way may leave a handle open (a socket, a timer): it must not keep the
  // process alive, but stderr gets a moment to drain first.
  setTimeout(() => process.exit(), 2_000).unref();
}
