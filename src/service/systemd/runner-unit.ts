import { type ServicePlan, stopTimeoutSeconds } from '../plan.js';
import {
  account,
  accounts,
  commandLine,
  empty,
  environment,
  integer,
  linePath,
  pathList,
  text,
  word,
  words,
} from './encode.js';
import { renderUnitFile, type UnitEntry, type UnitSection } from './unit-file.js';

/**
 * Sandboxing for the system unit. Each option was chosen to leave the daemon what it needs: the
 * Docker socket (connecting to a unix socket is allowed on a read-only mount), outbound HTTPS, its
 * state dir. PrivateTmp only when nothing the service needs lives under /tmp (ServicePlan.privateTmp).
 * Left out on purpose: MemoryDenyWriteExecute (V8's JIT needs W+X pages), PrivateUsers
 * and DynamicUser (they hide the docker group the socket is owned by).
 */
const SYSTEM_HARDENING: readonly UnitEntry[] = [
  ['NoNewPrivileges', word('yes')],
  ['ProtectSystem', word('strict')],
  ['ProtectHome', word('read-only')],
  ['PrivateTmp', word('yes')],
  ['PrivateDevices', word('yes')],
  ['ProtectKernelTunables', word('yes')],
  ['ProtectKernelModules', word('yes')],
  ['ProtectKernelLogs', word('yes')],
  ['ProtectControlGroups', word('yes')],
  ['ProtectClock', word('yes')],
  ['ProtectHostname', word('yes')],
  ['RestrictSUIDSGID', word('yes')],
  ['RestrictRealtime', word('yes')],
  ['RestrictNamespaces', word('yes')],
  ['LockPersonality', word('yes')],
  ['SystemCallArchitectures', word('native')],
  // AF_NETLINK: Node lists network interfaces through netlink.
  ['RestrictAddressFamilies', words(['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'])],
  ['UMask', word('0077')],
];

export function renderSystemdUnit(plan: ServicePlan): string {
  const system = plan.scope === 'system';
  const docker = system && plan.backends.includes('docker');
  const after = words(['network-online.target', ...(docker ? ['docker.service'] : [])]);
  const unit: UnitSection = {
    name: 'Unit',
    entries: [
      ['Description', text('runner: autoscaler for ephemeral GitHub Actions runners')],
      ['After', after],
      ['Wants', after],
      // A config error makes every restart fail the same way: give up after 5 tries in 5 minutes.
      ['StartLimitIntervalSec', integer(300)],
      ['StartLimitBurst', integer(5)],
    ],
  };
  const service: UnitSection = {
    name: 'Service',
    comments: [
      'Secrets (RUNNER_TOKEN, DEDALUS_API_KEY, …) belong in the EnvironmentFile, never in this unit.',
      ...(system && !plan.serviceUser
        ? ['Runs as root: no "runner" user existed at install time (see --create-user).']
        : []),
    ],
    entries: [
      ['Type', word('exec')],
      ['ExecStart', commandLine([...plan.execStart, 'run', '--config', plan.configPath])],
      ['EnvironmentFile', linePath(plan.envFile, { optional: true })],
      ['Environment', environment(plan.environment)],
      ['User', plan.serviceUser ? account(plan.serviceUser) : undefined],
      ['Group', plan.serviceUser ? account(plan.serviceUser) : undefined],
      [
        'SupplementaryGroups',
        plan.supplementaryGroups.length > 0 ? accounts(plan.supplementaryGroups) : undefined,
      ],
      ['WorkingDirectory', linePath(plan.stateDir)],
      ['Restart', word('on-failure')],
      ['RestartSec', integer(5)],
      // SIGTERM drains; only the daemon gets it (mixed), its helpers are killed if the timeout passes.
      ['KillSignal', word('SIGTERM')],
      ['KillMode', word('mixed')],
      ['TimeoutStopSec', integer(stopTimeoutSeconds(plan.drainTimeoutMs))],
      ...(system
        ? [
            ['ReadWritePaths', pathList(plan.writablePaths)] as const,
            ...(plan.serviceUser ? [['CapabilityBoundingSet', empty()] as const] : []),
            ...SYSTEM_HARDENING.filter(([key]) => key !== 'PrivateTmp' || plan.privateTmp),
          ]
        : // User managers can only sandbox through user namespaces, which remap the docker group away.
          [['NoNewPrivileges', word('yes')] as const]),
    ],
  };
  const install: UnitSection = {
    name: 'Install',
    entries: [['WantedBy', word(system ? 'multi-user.target' : 'default.target')]],
  };
  return renderUnitFile(
    [unit, service, install],
    [
      `Written by \`runner service install\` (runner ${plan.runnerVersion}). Edit with care: a reinstall`,
      'with --force rewrites it. Secrets go in the EnvironmentFile below.',
    ],
  );
}
