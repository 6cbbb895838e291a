import type { NetworkAccess } from '../net/types.js';
import { releaseTarget } from '../release/target.js';
import { UpdateError } from './errors.js';
import { fetchVerifiedExecutable } from './fetch-release.js';
import { howToInstall, type InstallKind, installKind } from './install-kind.js';
import { decideUpdate, type UpdateDecision } from './plan.js';
import { replaceExecutable } from './replace-executable.js';

export interface UpdateOptions {
  baseUrl: string;
  current: string;
  pin?: string;
  allowDowngrade: boolean;
  /** Per request. */
  timeoutMs: number;
  /** Proxy and CA for the downloads (the config's top level, else the environment); default: direct. */
  network?: NetworkAccess | undefined;
  /** Only report what would happen. */
  check: boolean;
  /** Running as the single executable; an npm install is updated by npm. */
  sea: boolean;
  /** How this copy was installed, when not the binary (tests; default: found from where the code lives). */
  install?: InstallKind;
  /** The file to replace: process.execPath of the single executable. */
  executable: string;
  /** Asked before anything is downloaded; false stops the update. */
  confirm: (decision: UpdateDecision) => Promise<boolean>;
  say: (line: string) => void;
}

export type UpdateOutcome =
  /** `install`: how this copy was installed, so the suggested command is one that works. */
  | { result: 'checked'; decision: UpdateDecision; install: InstallKind }
  | { result: 'nothing-to-do'; decision: UpdateDecision }
  | { result: 'replaced'; decision: UpdateDecision; path: string };

export async function runUpdate(opts: UpdateOptions): Promise<UpdateOutcome> {
  const decision = await decideUpdate(opts);
  const install = opts.sea ? 'binary' : (opts.install ?? installKind(false));
  if (opts.check) return { result: 'checked', decision, install };
  if (decision.action === 'current' || decision.action === 'ahead')
    return { result: 'nothing-to-do', decision };

  if (install !== 'binary') {
    throw new UpdateError(
      'UPDATE_NOT_BINARY',
      `this runner is ${install === 'source' ? 'a source checkout' : 'the npm package'} (a script run by node), so update it with ${howToInstall(install, decision.target)}. runner update replaces the single binary installed by install.sh`,
    );
  }
  const target = releaseTarget();
  if (!target) {
    throw new UpdateError(
      'UPDATE_UNSUPPORTED_PLATFORM',
      `no release is published for ${process.platform}-${process.arch}`,
    );
  }
  if (!(await opts.confirm(decision))) {
    throw new UpdateError('UPDATE_NOT_CONFIRMED', 'update cancelled; nothing was changed');
  }
  opts.say(`downloading runner ${decision.target} for ${target} …`);
  const executable = await fetchVerifiedExecutable({
    baseUrl: opts.baseUrl,
    version: decision.target,
    target,
    timeoutMs: opts.timeoutMs,
    network: opts.network,
  });
  const path = await replaceExecutable(opts.executable, executable);
  return { result: 'replaced', decision, path };
}

/** One line per outcome, for people. */
export function describeOutcome(outcome: UpdateOutcome): string {
  const { current, target } = outcome.decision;
  switch (outcome.result) {
    case 'checked':
      switch (outcome.decision.action) {
        case 'update':
          return `runner ${target} is available (this is ${current}); install it with ${howToInstall(outcome.install, target)}`;
        case 'downgrade':
          return `runner ${target} is older than this ${current}; ${howToInstall(outcome.install, target, true)} would install it`;
        case 'current':
          return `runner ${current} is up to date`;
        case 'ahead':
          return `runner ${current} is newer than the latest release (${target}); nothing to do`;
      }
      break;
    case 'nothing-to-do':
      return outcome.decision.action === 'current'
        ? `runner ${current} is up to date`
        : `runner ${current} is newer than the latest release (${target}); not downgrading (pin one with --version and --allow-downgrade)`;
    case 'replaced':
      return `updated runner ${current} → ${target} at ${outcome.path}. Restart it to use the new version (e.g. \`sudo runner service restart\`)`;
  }
}
