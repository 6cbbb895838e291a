#!/usr/bin/env -S node --max-semi-space-size=1
import { Command } from 'commander';
import { LINGER_MS } from '../src/daemon/exit-deadline.js';
import { tolerateBrokenStdio } from '../src/log-destination.js';
import { VERSION } from '../src/version.js';
import { registerDoctor } from './doctor.js';
import { registerInit } from './init.js';
import { registerRun } from './run.js';
import { registerService } from './service.js';
import { registerStatus } from './status.js';
import { registerUpdate } from './update.js';
import { registerValidate } from './validate.js';
import { registerVersion } from './version.js';

// First: a reader of our output that goes away (`| head`, a dead `tee`) must never end a command.
tolerateBrokenStdio();

/** Each command lives in its own file and registers itself here; commands parse input and call src/. */
const program = new Command('runner')
  .description('Autoscale ephemeral GitHub Actions runners on Docker, Tart or Dedalus.')
  .version(VERSION, '-V, --version-short', 'print the version number')
  .showHelpAfterError('(add --help for usage)')
  .configureHelp({ sortSubcommands: false });

registerInit(program);
registerRun(program);
registerValidate(program);
registerStatus(program);
registerDoctor(program);
registerService(program);
registerVersion(program);
registerUpdate(program);

await program.parseAsync(process.argv);
// The command is over once its action returned. Whatever is still open then (a request a wedged
// engine never answered, a forgotten timer) must not keep the process alive: exit if it would linger.
setTimeout(() => process.exit(), LINGER_MS).unref();
