import type { RunnerBackend } from '../../backends/types.js';
import type { HostStatus } from '../health/status-types.js';
import type { Logger } from '../log.js';
import { cordonFilePath, readCordons, writeCordons } from './cordon-file.js';
import { HostsError } from './errors.js';

interface SetBackend {
  scaleSet: string;
  backend: RunnerBackend;
}

/**
 * The daemon's hosts: those of every scale set whose backend has several (the `hosts` capability), one
 * entry per host however many sets share it, and the cordons, kept in state-dir. The backends own the
 * hosts; this only asks them and tells them, through the backend contract.
 */
export class DaemonHosts {
  readonly #sets: SetBackend[];
  readonly #stateDir: string;
  readonly #log: Logger;
  #cordoned = new Set<string>();
  /** Cordon changes one at a time: each writes the file from the one before. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(sets: SetBackend[], stateDir: string, logger: Logger) {
    this.#sets = sets.filter((s) => s.backend.hosts !== undefined);
    this.#stateDir = stateDir;
    this.#log = logger;
  }

  /**
   * Applies the cordons of the state dir (before any runner is placed). A name no scale set has any
   * more (taken out of the config) is said once and dropped from the file at the next change.
   */
  async load(): Promise<void> {
    const names = await readCordons(this.#stateDir);
    const known = new Set(this.list().map((h) => h.name));
    for (const name of names) {
      if (!known.has(name)) {
        this.#log.warn(
          { host: name, file: cordonFilePath(this.#stateDir) },
          'a cordoned host is in no scale set of the config any more: its cordon is forgotten',
        );
        continue;
      }
      this.#cordoned.add(name);
    }
    // Exactly the file's cordons, also for a host the process's budget book already knew.
    for (const name of known) this.#apply(name, this.#cordoned.has(name));
    for (const name of this.#cordoned)
      this.#log.warn({ host: name }, 'docker host is cordoned: no new runners there');
  }

  /** Every host once, in config order; `scaleSets` names the sets that list it. */
  list(): HostStatus[] {
    const byUrl = new Map<string, HostStatus>();
    for (const { scaleSet, backend } of this.#sets) {
      for (const h of backend.hosts?.() ?? []) {
        const seen = byUrl.get(h.url);
        if (seen) {
          seen.scaleSets.push(scaleSet);
          continue;
        }
        byUrl.set(h.url, {
          name: h.name,
          url: h.url,
          state: h.state,
          cordoned: h.cordoned,
          ...(h.error ? { error: h.error } : {}),
          budget: { ...h.budget },
          used: { ...h.used },
          scaleSets: [scaleSet],
        });
      }
    }
    return [...byUrl.values()];
  }

  /**
   * Cordons or uncordons `name` for every scale set: written to the state dir first (a cordon that
   * would not survive a restart is refused), then applied. Answers the host as it is then.
   */
  cordon(name: string, cordoned: boolean): Promise<HostStatus> {
    const run = this.#queue.then(() => this.#cordon(name, cordoned));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #cordon(name: string, cordoned: boolean): Promise<HostStatus> {
    const hosts = this.list();
    if (hosts.length === 0) {
      throw new HostsError('HOST_UNSUPPORTED', 'no scale set of this daemon places runners on hosts');
    }
    if (!hosts.some((h) => h.name === name)) {
      throw new HostsError(
        'HOST_UNKNOWN',
        `no host ${JSON.stringify(name)}; the hosts are: ${hosts.map((h) => h.name).join(', ')}`,
      );
    }
    const next = new Set(this.#cordoned);
    if (cordoned) next.add(name);
    else next.delete(name);
    const known = new Set(hosts.map((h) => h.name));
    try {
      await writeCordons(
        this.#stateDir,
        [...next].filter((n) => known.has(n)),
      );
    } catch (err) {
      throw new HostsError(
        'HOST_CORDON_SAVE',
        `cannot save the cordon in ${cordonFilePath(this.#stateDir)}: ${(err as Error).message}; nothing changed`,
        { cause: err },
      );
    }
    this.#cordoned = next;
    this.#apply(name, cordoned);
    this.#log.info(
      { host: name },
      cordoned ? 'docker host cordoned: no new runners there, busy ones finish' : 'docker host uncordoned',
    );
    return this.list().find((h) => h.name === name) as HostStatus;
  }

  #apply(name: string, cordoned: boolean): void {
    for (const { backend } of this.#sets) backend.cordon?.(name, cordoned);
  }
}
