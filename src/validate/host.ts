import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { type CheckResult, fail, type Outcome, ok } from '../checks/result.js';
import { runCheck } from '../checks/run-check.js';
import { exposureOf, secretFiles } from '../config/secret-files.js';
import type { RunnerConfig } from '../config/types.js';
import { describeHolder, inspectStateDirLock, lockPathProblem } from '../state/state-dir-lock.js';

/** The daemon-wide checks: its health port, its state directory and who can read its secrets. */
export function hostChecks(
  config: RunnerConfig,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult>[] {
  const where = `${config.healthHost}:${config.healthPort}`;
  return [
    runCheck(
      {
        id: 'health-port',
        title: config.healthPort === 0 ? 'health server off (health-port = 0)' : `health port ${where} free`,
        run: () =>
          config.healthPort === 0 ? Promise.resolve(ok()) : portFree(config.healthHost, config.healthPort),
      },
      timeoutMs,
      signal,
    ),
    runCheck(
      {
        id: 'state-dir',
        title: `state-dir ${config.stateDir} writable and not in use`,
        run: async () => {
          const writable = await writableDir(config.stateDir);
          return writable.status === 'ok' ? notInUse(config.stateDir, writable) : writable;
        },
      },
      timeoutMs,
      signal,
    ),
    ...secretFiles(config).map((file) =>
      runCheck(
        {
          id: 'secret-file',
          title: `${file.path} readable only by its owner: it holds ${file.holds}`,
          run: async () => {
            const exposed = await exposureOf(file.path);
            if (!exposed) return ok();
            return fail(
              `mode ${exposed.mode}: ${exposed.who}`,
              `run: ${exposed.fix}   (ssh refuses private keys this open; runner run starts but warns)`,
            );
          },
        },
        timeoutMs,
        signal,
      ),
    ),
  ];
}

/** Binds the port the way the health server will, and lets it go at once. */
function portFree(host: string, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      switch (err.code) {
        case 'EADDRINUSE':
          resolve(
            fail(
              'another process listens on it',
              'a runner daemon may already run with this config (runner status tells), or another service uses the port: stop it or set health-port',
            ),
          );
          return;
        case 'EADDRNOTAVAIL':
        case 'ENOTFOUND':
          resolve(
            fail(
              `health-host ${host} is not an address of this machine`,
              'set health-host to a local address, e.g. 127.0.0.1',
            ),
          );
          return;
        case 'EACCES':
          resolve(fail('not allowed to bind it', 'ports below 1024 need root: pick a higher health-port'));
          return;
        default:
          resolve(fail(err.message));
      }
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(ok()));
    });
  });
}

/**
 * Whether `runner run` would get the state-dir lock: asked without taking it, so validating the
 * config of a running daemon never disturbs it (nor a daemon starting meanwhile).
 */
async function notInUse(stateDir: string, writable: Outcome): Promise<Outcome> {
  const tooLong = lockPathProblem(stateDir);
  if (tooLong) return fail(tooLong, 'set state-dir to a shorter path');
  const lock = await inspectStateDirLock(stateDir);
  switch (lock.state) {
    case 'free':
      return writable;
    case 'held':
      return fail(
        `in use by ${describeHolder(lock.holder)}`,
        'runner run refuses to start while another process holds its state-dir: stop that one first (runner service stop), or give this config its own state-dir',
      );
    case 'unknown':
      return fail(lock.reason, 'run runner validate as the user the daemon runs as');
  }
}

/** The directory, or the nearest existing parent the daemon would create it in, must be writable. */
async function writableDir(path: string): Promise<Outcome> {
  let dir = path;
  for (;;) {
    const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (info) {
      if (!info.isDirectory()) return fail(`${dir} is not a directory`, 'set state-dir to a directory');
      try {
        await access(dir, constants.W_OK | constants.X_OK);
      } catch {
        return fail(
          `${dir} is not writable by this user`,
          'run as the user the service runs as, or make the directory theirs (chown), or set state-dir',
        );
      }
      return dir === path ? ok() : ok(`does not exist yet; runner creates it in ${dir}`);
    }
    const parent = dirname(dir);
    if (parent === dir) return fail(`no existing parent of ${path}`);
    dir = parent;
  }
}
