import { type BackendInventory, backendContext, openInventory } from '../../backends/index.js';
import type { OwnedRunner } from '../../backends/types.js';
import type { RunnerConfig, ScaleSetConfig } from '../config/types.js';
import type { ActionsClient } from '../github/index.js';
import { silentLogger } from '../log.js';
import type { NetworkAccess } from '../net/types.js';
import { ScaleSetStore } from '../state/scale-set-store.js';
import { actionsClientFor } from '../validate/github-client.js';
import type { Liveness } from './liveness.js';
import { registeredId, unregister } from './registrations.js';
import { type Finding, type FixOutcome, RESOURCE, type ScaleSetInspection } from './types.js';

/**
 * A state-file entry this young may be a start in flight while a daemon runs (or may run): the daemon
 * records a registration before its resource exists. With no daemon (the state-dir lock is free)
 * there is no start in flight and no grace: a runner crashed a minute ago is as left over as any.
 */
const IN_FLIGHT_GRACE_MS = 10 * 60_000;

export interface ScanOptions {
  config: RunnerConfig;
  set: ScaleSetConfig;
  instanceId: string;
  env: NodeJS.ProcessEnv;
  /** The scale set's proxy and CA, and its shared pool. */
  network: NetworkAccess;
  daemon: Liveness['state'];
  /** Per backend or GitHub call. */
  timeoutMs: number;
  now?: () => number;
}

/**
 * One scale set as doctor sees it: the backend's own `listOwned()` (so only resources with our
 * ownership marks ever show up) and the registrations the daemon recorded in its state file.
 * Opened once, so `fix` acts through the same backend, store and client that found the problems.
 */
export class ScaleSetScan {
  readonly #o: ScanOptions;
  #backend: Promise<BackendInventory> | undefined;
  #store: ScaleSetStore | undefined;
  #client: ActionsClient | undefined;
  readonly #storeErrors: string[] = [];

  constructor(opts: ScanOptions) {
    this.#o = opts;
  }

  async inspect(): Promise<ScaleSetInspection> {
    const { set } = this.#o;
    const out: ScaleSetInspection = {
      scaleSet: set.name,
      backend: set.backend,
      findings: [],
      inUse: 0,
      skipped: [],
      errors: [],
    };
    let owned: OwnedRunner[] | undefined;
    try {
      owned = await (await this.#backendFor()).listOwned(this.#signal());
    } catch (err) {
      out.errors.push(`cannot list ${set.backend} resources: ${message(err)}`);
    }
    for (const o of owned ?? []) {
      const base = {
        scaleSet: set.name,
        backend: set.backend,
        name: o.name,
        resourceId: o.resourceId,
        state: o.state,
      };
      const withId = o.runnerId === undefined ? base : { ...base, runnerId: o.runnerId };
      if (o.state === 'exited') out.findings.push({ ...withId, kind: 'exited' });
      else if (this.#o.daemon === 'running') out.inUse++;
      else out.findings.push({ ...withId, kind: 'unmanaged' });
    }
    // Without the resource list, every stored registration would look orphaned: say nothing instead.
    if (owned) await this.#inspectRegistrations(new Set(owned.map((o) => o.name)), out);
    return out;
  }

  async #inspectRegistrations(resources: ReadonlySet<string>, out: ScaleSetInspection): Promise<void> {
    let store: ScaleSetStore;
    try {
      store = await this.#storeFor();
    } catch (err) {
      out.errors.push(`cannot read the state file: ${message(err)}`);
      return;
    }
    const now = (this.#o.now ?? Date.now)();
    for (const [name, stored] of store.runners()) {
      if (resources.has(name)) continue;
      const age = now - Date.parse(stored.createdAt);
      if (this.#o.daemon !== 'stopped' && age < IN_FLIGHT_GRACE_MS) {
        const who = this.#o.daemon === 'running' ? 'the running daemon' : 'a daemon that may be running';
        out.skipped.push({
          name,
          reason: `recorded ${Math.max(0, Math.round(age / 1000))}s ago with no ${RESOURCE[this.#o.set.backend] ?? 'resource'} yet: may be a start in flight of ${who}, so not checked at GitHub (doctor checks it once it is ${IN_FLIGHT_GRACE_MS / 60_000} minutes old)`,
        });
        continue;
      }
      const base = { scaleSet: this.#o.set.name, backend: this.#o.set.backend, name };
      try {
        const id = await registeredId(this.#clientFor(), name, stored.runnerId, this.#signal());
        out.findings.push(
          id === undefined
            ? { ...base, kind: 'stale-record' }
            : { ...base, kind: 'registration', runnerId: id },
        );
      } catch (err) {
        out.errors.push(`cannot check registration ${name} at GitHub: ${message(err)}`);
      }
    }
  }

  /** Removes what `inspect` found, each on its own: one failure does not stop the rest. */
  async fix(findings: readonly Finding[]): Promise<{ outcomes: FixOutcome[]; errors: string[] }> {
    const outcomes: FixOutcome[] = [];
    for (const f of findings)
      outcomes.push(await this.#fixOne(f).catch((err: unknown) => failed(f, message(err))));
    if (this.#store) await this.#store.flush();
    // The store reports a failed write through its error callback, not through flush().
    return { outcomes, errors: this.#storeErrors.splice(0).map((e) => `state file not saved: ${e}`) };
  }

  async #fixOne(f: Finding): Promise<FixOutcome> {
    if (f.kind === 'stale-record') {
      (await this.#storeFor()).delete(f.name);
      return {
        finding: f,
        result: 'removed',
        detail: 'state-file entry dropped (nothing left at GitHub or the backend)',
      };
    }
    // The registration goes first, as the daemon does it: GitHub refuses while the runner runs a
    // job, which is the one reliable sign that a resource we are about to delete is busy.
    let registration: 'removed' | 'gone' | 'busy' | Error = 'gone';
    try {
      const id = await registeredId(this.#clientFor(), f.name, f.runnerId, this.#signal());
      if (id !== undefined) registration = await unregister(this.#clientFor(), id, this.#signal());
    } catch (err) {
      registration = err instanceof Error ? err : new Error(String(err));
    }
    if (registration === 'busy') {
      return {
        finding: f,
        result: 'skipped',
        detail: 'GitHub says it is running a job; left alone (run doctor again later)',
      };
    }
    if (registration instanceof Error && f.kind !== 'exited') {
      // Deleting a live runner we could not ask GitHub about might kill a job.
      return failed(f, `not removed: cannot check its registration at GitHub: ${registration.message}`);
    }
    if (f.kind !== 'registration') await (await this.#backendFor()).remove(f.name, this.#signal());
    if (registration instanceof Error) {
      // The state-file entry stays: it is how the next doctor run finds that registration again.
      return failed(
        f,
        `resource removed, but its registration at GitHub could not be removed: ${registration.message}`,
      );
    }
    (await this.#storeFor()).delete(f.name);
    const github =
      registration === 'removed' ? 'registration removed at GitHub' : 'no registration left at GitHub';
    const detail = f.kind === 'registration' ? github : `${f.backend} resource removed, ${github}`;
    return { finding: f, result: 'removed', detail };
  }

  /** Stops the backend's background work; never removes anything (removeAll stays off). */
  async close(): Promise<string | undefined> {
    try {
      await (await this.#backend)?.close({ signal: AbortSignal.timeout(this.#o.timeoutMs) });
      return undefined;
    } catch (err) {
      return `closing the ${this.#o.set.backend} backend of ${this.#o.set.name}: ${message(err)}`;
    }
  }

  #signal(): AbortSignal {
    return AbortSignal.timeout(this.#o.timeoutMs);
  }

  #backendFor(): Promise<BackendInventory> {
    this.#backend ??= openInventory(
      this.#o.set,
      backendContext(this.#o.config, this.#o.set, this.#o.instanceId, silentLogger, this.#o.network),
    );
    return this.#backend;
  }

  async #storeFor(): Promise<ScaleSetStore> {
    this.#store ??= await ScaleSetStore.open(this.#o.config.stateDir, this.#o.set.name, (err) =>
      this.#storeErrors.push(message(err)),
    );
    return this.#store;
  }

  #clientFor(): ActionsClient {
    this.#client ??= actionsClientFor(
      this.#o.set,
      this.#o.env,
      this.#o.timeoutMs,
      this.#o.network.dispatcher,
    );
    return this.#client;
  }
}

function failed(finding: Finding, detail: string): FixOutcome {
  return { finding, result: 'failed', detail };
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
