import type { FleetEngine } from '../../support/engines/fleet.js';
import type { E2eEnv } from './e2e-env.js';

/** The `[[docker.hosts]]` tables of the fleet's engines, each with `extra` lines (e.g. a budget). */
export function hostsToml(engines: readonly FleetEngine[], extra: readonly string[] = []): string {
  return engines
    .map((e) =>
      [
        '',
        '[[docker.hosts]]',
        `name = "${e.name}"`,
        `url = "${e.url}"`,
        ...extra,
        ...(e.tls
          ? [`tls-ca = "${e.tls.ca}"`, `tls-cert = "${e.tls.cert}"`, `tls-key = "${e.tls.key}"`]
          : []),
      ].join('\n'),
    )
    .join('\n');
}

/** This test's runner containers on `e`, asked of the engine itself. */
export function onEngine(env: E2eEnv, e: FleetEngine, running = false) {
  return e.engine.docker.listContainers({ all: !running, filters: { label: env.labelFilter } });
}
