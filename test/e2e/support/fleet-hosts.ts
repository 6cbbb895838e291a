import { pollUntil } from '../../../src/util/poll-until.js';
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

/**
 * The running runner containers on each of `engines`, once `total` of them run. A runner can claim its
 * job before its engine has answered the start call, and the engine lists the container as running only
 * then: "N jobs started" at the fake does not yet mean N containers listed as running.
 */
export function runningOn(env: E2eEnv, engines: readonly FleetEngine[], total: number) {
  return pollUntil(
    async () => {
      const lists = await Promise.all(engines.map((e) => onEngine(env, e, true)));
      return lists.reduce((n, l) => n + l.length, 0) === total ? lists : undefined;
    },
    { timeout: 30_000, interval: 100, what: `${total} runner containers running` },
  );
}
