import { existsSync } from 'node:fs';
import { chown, mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../state/atomic-file.js';
import { type Account, createSystemUser, groupExists, lookupUser } from './accounts.js';
import type { CommandRunner } from './commands.js';
import { readConfigFacts } from './config-facts.js';
import {
  type ControllerTarget,
  launchdController,
  type ServiceController,
  systemdController,
} from './controller.js';
import { ensureEnvFile } from './env-file.js';
import { ServiceError } from './errors.js';
import { resolveExecStart } from './exec-start.js';
import { renderLaunchdPlist } from './launchd/runner-plist.js';
import { defaultServicePaths, SERVICE_USER, type ServicePaths, serviceLabel, underRoot } from './paths.js';
import type { ServiceManagerKind, ServicePlan, ServiceScope } from './plan.js';
import { planService } from './planner.js';
import { renderSystemdUnit } from './systemd/runner-unit.js';

/** The host as the service code sees it; tests pass a temp `root` and a recording `commands`. */
export interface ServiceContext {
  platform: NodeJS.Platform;
  scope: ServiceScope;
  home: string;
  uid: number;
  isRoot: boolean;
  /** '/' normally; every target path is read and written under it (like DESTDIR). */
  root: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  commands: CommandRunner;
  sea: boolean;
  execPath: string;
  script?: string;
  runnerVersion: string;
  /** Progress and advice for the operator. */
  say: (line: string) => void;
}

export interface InstallOptions {
  configPath?: string;
  binaryPath?: string;
  start: boolean;
  dryRun: boolean;
  force: boolean;
  createUser: boolean;
}

export interface InstallResult {
  plan: ServicePlan;
  /** The unit or plist text. */
  rendered: string;
  notes: string[];
  written: boolean;
}

export function managerFor(platform: NodeJS.Platform): ServiceManagerKind {
  if (platform === 'linux') return 'systemd';
  if (platform === 'darwin') return 'launchd';
  throw new ServiceError(
    'SERVICE_UNSUPPORTED',
    `runner service supports Linux (systemd) and macOS (launchd), not ${platform}`,
  );
}

export async function installService(ctx: ServiceContext, opts: InstallOptions): Promise<InstallResult> {
  const manager = managerFor(ctx.platform);
  const paths = defaultServicePaths(manager, ctx.scope, ctx.home, ctx.env);
  if (!opts.dryRun) requireRoot(ctx, 'install');
  const configPath = opts.configPath ?? paths.configPath;
  const facts = await readConfigFacts(underRoot(ctx.root, configPath));
  const execStart = resolveExecStart({
    ...(opts.binaryPath ? { binaryPath: opts.binaryPath } : {}),
    sea: ctx.sea,
    execPath: ctx.execPath,
    ...(ctx.script ? { script: ctx.script } : {}),
    cwd: ctx.cwd,
  });

  const wantsUser = manager === 'systemd' && ctx.scope === 'system';
  let account = wantsUser ? await lookupUser(ctx.commands, SERVICE_USER) : undefined;
  const { plan, notes } = planService({
    manager,
    scope: ctx.scope,
    runnerVersion: ctx.runnerVersion,
    home: ctx.home,
    paths: { ...paths, configPath },
    execStart,
    facts,
    serviceUserAvailable: account !== undefined || (wantsUser && opts.createUser),
    dockerGroupExists:
      wantsUser && facts?.backends.includes('docker') ? await groupExists(ctx.commands, 'docker') : false,
    env: ctx.env,
  });
  const rendered = manager === 'systemd' ? renderSystemdUnit(plan) : renderLaunchdPlist(plan);
  if (opts.dryRun) return { plan, rendered, notes, written: false };

  const unitOnDisk = underRoot(ctx.root, plan.unitFile);
  if (existsSync(unitOnDisk) && !opts.force) {
    throw new ServiceError(
      'SERVICE_EXISTS',
      `${plan.unitFile} already exists; remove it with \`runner service uninstall${flag(ctx)}\` first, or pass --force to overwrite it`,
    );
  }
  if (plan.serviceUser && !account) {
    await createSystemUser(ctx.commands, plan.serviceUser, plan.stateDir);
    account = await lookupUser(ctx.commands, plan.serviceUser);
    ctx.say(`created system user ${plan.serviceUser}`);
  }
  await prepareFiles(ctx, plan, account, notes);
  await writeFileAtomic(unitOnDisk, rendered, 0o644);
  ctx.say(`wrote ${plan.unitFile}`);
  await controllerFor(ctx, manager, plan).activate(opts.start);
  ctx.say(
    opts.start
      ? `service enabled and started; follow it with \`runner service logs -f${flag(ctx)}\``
      : `service enabled; start it with \`runner service start${flag(ctx)}\``,
  );
  return { plan, rendered, notes, written: true };
}

/** Env file, state dir and log dir, owned so the service account can use them. */
async function prepareFiles(
  ctx: ServiceContext,
  plan: ServicePlan,
  account: Account | undefined,
  notes: string[],
) {
  const env = await ensureEnvFile(underRoot(ctx.root, plan.envFile));
  if (env === 'created')
    ctx.say(`created ${plan.envFile} (mode 0600): put RUNNER_TOKEN / DEDALUS_API_KEY there`);
  if (env === 'kept-loose')
    notes.push(`${plan.envFile} is readable by other users: chmod 600 ${plan.envFile}`);

  const stateDir = underRoot(ctx.root, plan.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o750 });
  if (account && plan.serviceUser) await chown(stateDir, account.uid, account.gid);
  if (plan.logFile) await mkdir(dirname(underRoot(ctx.root, plan.logFile)), { recursive: true, mode: 0o755 });

  if (account && plan.serviceUser) {
    const readable = await readableBy(underRoot(ctx.root, plan.configPath), account);
    if (readable === false) {
      notes.push(
        `${plan.configPath} is not readable by user ${plan.serviceUser}: chown root:${plan.serviceUser} ${plan.configPath} && chmod 0640 ${plan.configPath}`,
      );
    }
  }
}

async function readableBy(path: string, account: Account): Promise<boolean | undefined> {
  try {
    const s = await stat(path);
    if (s.uid === account.uid) return (s.mode & 0o400) !== 0;
    if (s.gid === account.gid) return (s.mode & 0o040) !== 0;
    return (s.mode & 0o004) !== 0;
  } catch {
    return undefined;
  }
}

export async function uninstallService(ctx: ServiceContext): Promise<void> {
  const { paths, unitOnDisk, controller } = installedService(ctx);
  requireRoot(ctx, 'uninstall');
  await controller.deactivate();
  await rm(unitOnDisk, { force: true });
  await controller.forget();
  ctx.say(`removed ${paths.unitFile}`);
  ctx.say(`kept ${paths.envFile} and the state directory (they hold your secrets and runner state)`);
}

export type ServiceAction = 'start' | 'stop' | 'restart';

export async function controlService(ctx: ServiceContext, action: ServiceAction): Promise<void> {
  const installed = installedService(ctx);
  requireRoot(ctx, action);
  await installed.controller[action]();
  ctx.say(`${action === 'stop' ? 'stopped' : `${action}ed`} runner service`);
}

export async function serviceStatus(ctx: ServiceContext): Promise<number> {
  return installedService(ctx).controller.status();
}

export async function serviceLogs(ctx: ServiceContext, lines: number, follow: boolean): Promise<number> {
  return installedService(ctx).controller.logs(lines, follow);
}

interface InstalledService {
  paths: ServicePaths;
  unitOnDisk: string;
  controller: ServiceController;
}

/** The service at the default location of this scope; refuses when nothing is installed there. */
function installedService(ctx: ServiceContext): InstalledService {
  const manager = managerFor(ctx.platform);
  const paths = defaultServicePaths(manager, ctx.scope, ctx.home, ctx.env);
  const unitOnDisk = underRoot(ctx.root, paths.unitFile);
  if (!existsSync(unitOnDisk)) {
    const other = ctx.scope === 'user' ? 'without --user' : 'with --user';
    throw new ServiceError(
      'SERVICE_NOT_INSTALLED',
      `no runner service is installed at ${paths.unitFile}; install it with \`runner service install${flag(ctx)}\` (or retry ${other} if it was installed that way)`,
    );
  }
  return { paths, unitOnDisk, controller: controllerFor(ctx, manager, paths) };
}

function controllerFor(
  ctx: ServiceContext,
  manager: ServiceManagerKind,
  where: Pick<ServicePaths, 'unitFile' | 'logFile'>,
): ServiceController {
  const target: ControllerTarget = {
    scope: ctx.scope,
    unitFile: where.unitFile,
    label: serviceLabel(manager),
    uid: ctx.uid,
    ...(where.logFile ? { logFile: where.logFile } : {}),
  };
  return manager === 'systemd'
    ? systemdController(ctx.commands, target)
    : launchdController(ctx.commands, target);
}

function requireRoot(ctx: ServiceContext, verb: string): void {
  if (ctx.scope === 'system' && !ctx.isRoot) {
    throw new ServiceError(
      'SERVICE_NEEDS_ROOT',
      `a system service needs root to ${verb}: run it with sudo, or manage a per-user service with --user`,
    );
  }
}

function flag(ctx: ServiceContext): string {
  return ctx.scope === 'user' ? ' --user' : '';
}
