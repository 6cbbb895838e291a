import { execa } from 'execa';
import { type CheckResult, fail, type Outcome, ok } from '../../src/checks/result.js';
import { runCheck } from '../../src/checks/run-check.js';
import type { BackendSetup, CheckOptions } from '../module.js';
import { TartCli, tartHome } from './cli.js';
import type { TartConfig } from './config.js';
import { hasImage, isRemote } from './image.js';
import { listVms } from './list.js';

/**
 * `tart` on PATH and the runner image in TART_HOME, read with `tart list` only: nothing is pulled or
 * cloned. TART_HOME, the listing and the image-name match are the backend's own (cli.ts, list.ts,
 * image.ts), run in the environment the daemon would have.
 */
export async function tartChecks(
  set: BackendSetup<TartConfig>,
  { timeoutMs, env, signal }: CheckOptions,
): Promise<CheckResult[]> {
  const home = tartHome(set.config.home, env);
  const cli = new TartCli('tart', home, env);
  const installed = await runCheck(
    {
      id: 'tart-cli',
      scaleSet: set.scaleSet,
      title: 'tart installed (on PATH)',
      run: async (sig) => {
        const r = await execa('tart', ['--version'], {
          env: { ...env, ...cli.env },
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
  const title = `runner image ${set.runnerImage} in ${home} (pull-policy ${set.config.pullPolicy})`;
  if (installed.status !== 'ok') {
    return [
      installed,
      { id: 'runner-image', scaleSet: set.scaleSet, title, status: 'skip', detail: 'needs tart' },
    ];
  }
  const image = await runCheck(
    {
      id: 'runner-image',
      scaleSet: set.scaleSet,
      title,
      run: async (sig) => imageOutcome(set, hasImage(await listVms(cli, sig), set.runnerImage)),
    },
    timeoutMs,
    signal,
  );
  return [installed, image];
}

function imageOutcome(set: BackendSetup<TartConfig>, present: boolean): Outcome {
  const image = set.runnerImage;
  if (present) return ok('present');
  if (!isRemote(image)) {
    return fail(
      'no local VM of that name',
      `create or clone it first (tart clone <image> ${image}), or fix runner-image`,
    );
  }
  if (set.config.pullPolicy === 'never') {
    return fail(
      'not pulled, and pull-policy "never" forbids pulling it',
      `run tart pull ${image}, or set [tart] pull-policy`,
    );
  }
  return ok(
    'not pulled yet: the first start runs tart pull, which can take a long time (run it ahead to save that)',
  );
}
