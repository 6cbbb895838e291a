import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface VerifyResult {
  code: number;
  output: string;
}

/**
 * `systemd-analyze verify` on a unit written to a temp dir. It parses every setting the way systemd
 * does and checks that the ExecStart executable exists; it needs no running systemd.
 */
export async function systemdVerify(unitText: string, name = 'runner.service'): Promise<VerifyResult> {
  const dir = await mkdtemp(join(tmpdir(), 'runner-unit-'));
  try {
    const file = join(dir, name);
    await writeFile(file, unitText);
    return await new Promise((resolve, reject) => {
      execFile(
        'systemd-analyze',
        ['verify', '--man=no', file],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') return reject(err);
          resolve({ code: err ? (err.code as number) : 0, output: `${stdout}${stderr}`.trim() });
        },
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
