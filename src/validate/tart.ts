import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import type { ScaleSetConfig } from '../config/types.js';
import { runCheck } from './run-check.js';
import { type CheckResult, fail, type Outcome, ok } from './types.js';

const VmList = z.array(z.object({ Name: z.string(), Source: z.string() }));

/**
 * `tart` on PATH and the runner image in TART_HOME, read with `tart list` only: nothing is pulled or
 * cloned. TART_HOME is resolved as the backend resolves it ([tart] home, $TART_HOME, ~/.tart).
 */
export async function tartChecks(
  set: ScaleSetConfig,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<CheckResult[]> {
  const home = set.tart.home || env.TART_HOME || join(homedir(), '.tart');
  // The environment runner would run with, TART_HOME pinned as the backend pins it.
  const tartEnv = { ...env, TART_HOME: home };
  const cli = await runCheck(
    {
      id: 'tart-cli',
      scaleSet: set.name,
      title: 'tart installed (on PATH)',
      run: async (sig) => {
        const r = await execa('tart', ['--version'], {
          env: tartEnv,
          extendEnv: false,
          cancelSignal: sig,
          reject: false,
        });
        if (r.failed && (r as { code?: string }).code === 'ENOENT') {
          return fail(
            `no tart executable on PATH (${env.PATH ?? ''})`,
            'install it (brew install cirruslabs/cli/tart); a service needs a PATH that contains it',
          );
        }
        if (r.failed) throw new Error(`tart --version failed: ${r.stderr || r.shortMessage}`);
        return ok(`tart ${r.stdout.trim()}`);
      },
    },
    timeoutMs,
    signal,
  );
  const title = `runner image ${set.runnerImage} in ${home} (pull-policy ${set.tart.pullPolicy})`;
  if (cli.status !== 'ok') {
    return [cli, { id: 'runner-image', scaleSet: set.name, title, status: 'skip', detail: 'needs tart' }];
  }
  const image = await runCheck(
    {
      id: 'runner-image',
      scaleSet: set.name,
      title,
      run: async (sig) => {
        const r = await execa('tart', ['list', '--format', 'json'], {
          env: tartEnv,
          extendEnv: false,
          cancelSignal: sig,
        });
        return imageOutcome(set, parseList(r.stdout));
      },
    },
    timeoutMs,
    signal,
  );
  return [cli, image];
}

function parseList(stdout: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`tart list printed something other than JSON: ${stdout.slice(0, 120)}`);
  }
  const rows = VmList.safeParse(json);
  if (!rows.success) throw new Error(`unexpected tart list output: ${rows.error.issues[0]?.message}`);
  return rows.data.map((r) => r.Name);
}

function imageOutcome(set: ScaleSetConfig, names: readonly string[]): Outcome {
  const image = set.runnerImage;
  // tart lists an untagged OCI image as …:latest; a name without "/" is a local VM.
  const remote = image.includes('/');
  const last = image.slice(image.lastIndexOf('/') + 1);
  const wanted = remote && !last.includes(':') && !last.includes('@') ? `${image}:latest` : image;
  if (names.includes(wanted)) return ok('present');
  if (!remote) {
    return fail(
      'no local VM of that name',
      `create or clone it first (tart clone <image> ${image}), or fix runner-image`,
    );
  }
  if (set.tart.pullPolicy === 'never') {
    return fail(
      'not pulled, and pull-policy "never" forbids pulling it',
      `run tart pull ${image}, or set [tart] pull-policy`,
    );
  }
  return ok(
    'not pulled yet: the first start runs tart pull, which can take a long time (run it ahead to save that)',
  );
}
