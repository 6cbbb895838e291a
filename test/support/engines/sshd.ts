import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pollUntil } from '../../../src/util/poll-until.js';
import { unusedPort } from '../../cmd/support/config-file.js';
import { findExecutable } from '../../setup/network-tools.js';
import { spawnOwned } from './dockerd.js';
import { killProcessesUnder } from './owned.js';

/** A key pair made with ssh-keygen: OpenSSH private key (what ssh2's `privateKey` takes) and public line. */
export interface SshKey {
  file: string;
  privateKey: string;
  publicKey: string;
}

/**
 * Debian's OpenSSH server on a free loopback port, with its own host key, one authorized client key
 * made at test time, and DOCKER_HOST set for its sessions (sshd_config SetEnv): the remote `docker
 * system dial-stdio` that Docker's ssh:// transport runs reaches the engine at `dockerHost`, as it
 * reaches the default socket on a real build machine. It logs in as this process's user.
 */
export class PrivateSshd {
  #child: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly user: string,
    /** The key the tests log in with (authorized). */
    readonly clientKey: SshKey,
    /** A key sshd does not know, for the auth-failure test. */
    readonly strangerKey: SshKey,
    /** The server's public host key line (`ssh-ed25519 AAAA…`), for a known_hosts check. */
    readonly hostKey: string,
    child: ChildProcess,
  ) {
    this.#child = child;
  }

  /** `ssh://<user>@127.0.0.1:<port>`: a Docker host URL as DOCKER_HOST takes it. */
  get url(): string {
    return `ssh://${encodeURIComponent(this.user)}@127.0.0.1:${this.port}`;
  }

  /** Why sshd cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    if (!findExecutable('sshd')) return 'sshd not found (apt-get install openssh-server)';
    if (!findExecutable('ssh-keygen')) return 'ssh-keygen not found (apt-get install openssh-client)';
    return undefined;
  }

  static async start(dir: string, dockerHost: string): Promise<PrivateSshd> {
    const why = PrivateSshd.unavailable();
    if (why) throw new Error(why);
    const sshd = findExecutable('sshd') as string;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const hostKey = await keygen(join(dir, 'ssh_host_ed25519_key'));
    const clientKey = await keygen(join(dir, 'client_ed25519'));
    const strangerKey = await keygen(join(dir, 'stranger_ed25519'));
    await writeFile(join(dir, 'authorized_keys'), `${clientKey.publicKey}\n`, { mode: 0o600 });
    const port = await unusedPort();
    const user = userInfo().username;
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${hostKey.file}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `AllowUsers ${user}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        // The key files live in a temp dir that is not the user's home: no ownership walk up to /tmp.
        'StrictModes no',
        `SetEnv DOCKER_HOST=${dockerHost}`,
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    // sshd's privilege separation directory (Debian's service makes it at boot).
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const logFile = join(dir, 'sshd.log');
    const log = openSync(logFile, 'a');
    // -D: stay in the foreground (our child); -e: log to stderr (the log file).
    const child = spawnOwned(sshd, ['-D', '-e', '-f', config], log);
    closeSync(log);
    const exited = once(child, 'exit').then(async () => {
      throw new Error(`sshd exited during start-up: ${await readFile(logFile, 'utf8').catch(() => '')}`);
    });
    exited.catch(() => {});
    await Promise.race([
      exited,
      pollUntil(() => banner(port), { timeout: 10_000, what: `sshd on 127.0.0.1:${port} to greet` }),
    ]);
    return new PrivateSshd(dir, port, user, clientKey, strangerKey, hostKey.publicKey, child);
  }

  /** Kills sshd with its sessions (their `docker system dial-stdio` too: they are its descendants). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    await killProcessesUnder(this.dir);
    await exited;
  }

  log(): Promise<string> {
    return readFile(join(this.dir, 'sshd.log'), 'utf8').catch(() => '');
  }
}

async function keygen(file: string): Promise<SshKey> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'runner-test', '-f', file], {
    stdin: 'ignore',
  });
  return {
    file,
    privateKey: await readFile(file, 'utf8'),
    publicKey: (await readFile(`${file}.pub`, 'utf8')).trim(),
  };
}

/** Whether an SSH server greets on the port. */
function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('SSH-'));
    });
    socket.once('error', () => resolve(false));
  });
}
