import type { Scheduler } from 'fast-check';
import {
  BackendCapacityError,
  type OwnedRunner,
  type RunnerBackend,
  type RunnerEvent,
  type RunnerHandle,
  type RunnerSpec,
} from '../../backends/types.js';
import { EventHub } from '../../src/kernel/events.js';
import type { Registrar } from '../../src/scaler/types.js';
import { Secret } from '../../src/secret.js';

/**
 * GitHub and a backend as one small world for property tests of the scaler. Every call the scaler
 * makes is released by fast-check's scheduler, so the outcomes arrive in orders it chooses (and shrinks
 * when a property fails), and the world's state changes only when a call is released. The world checks
 * the invariants at each change and records any violation.
 */
export class World {
  /** GitHub's runner registrations: id → runner name, and whether a job runs on it. */
  readonly registrations = new Map<number, { name: string; job: boolean }>();
  /** The backend's resources: runner name → running or exited. */
  readonly resources = new Map<string, 'running' | 'exited'>();
  readonly violations: string[] = [];
  /** Calls the scaler made, in the order the world saw them released. */
  readonly log: string[] = [];
  readonly hub = new EventHub<RunnerEvent>();
  faults = { start: 0, capacity: 0, deregister: 0, remove: 0 };
  #nextId = 1;

  constructor(
    private readonly s: Scheduler,
    private readonly maxRunners: number,
  ) {}

  /** Runners holding a registration or a resource: max-runners bounds these. */
  held(): number {
    const names = new Set(this.resources.keys());
    for (const r of this.registrations.values()) names.add(r.name);
    return names.size;
  }

  #check(what: string): void {
    const held = this.held();
    if (held > this.maxRunners) this.violations.push(`${what}: ${held} runners held, max ${this.maxRunners}`);
  }

  #release(label: string): Promise<void> {
    return this.s.schedule(Promise.resolve(), label);
  }

  idOf(name: string): number | undefined {
    for (const [id, r] of this.registrations) if (r.name === name) return id;
    return undefined;
  }

  /** GitHub gives a queued job to a runner that is up and idle; returns its name. */
  assignJob(name: string): boolean {
    const id = this.idOf(name);
    const reg = id === undefined ? undefined : this.registrations.get(id);
    if (!reg || reg.job || this.resources.get(name) !== 'running') return false;
    reg.job = true;
    return true;
  }

  /** The runner finishes its job: its process exits 0 and GitHub no longer counts it busy. */
  finishJob(name: string): boolean {
    const id = this.idOf(name);
    const reg = id === undefined ? undefined : this.registrations.get(id);
    if (!reg?.job || this.resources.get(name) !== 'running') return false;
    reg.job = false;
    // An ephemeral runner is deregistered by GitHub after its job.
    if (id !== undefined) this.registrations.delete(id);
    this.exit(name, 0);
    return true;
  }

  /** The runner's process dies (OOM, VM stop): a job on it is lost. */
  exit(name: string, exitCode: number): void {
    if (this.resources.get(name) !== 'running') return;
    this.resources.set(name, 'exited');
    const id = this.idOf(name);
    const reg = id === undefined ? undefined : this.registrations.get(id);
    if (reg) reg.job = false;
    this.hub.emit({ type: 'exited', name, resourceId: `res-${name}`, exitCode, at: new Date() });
  }

  runningJobs(): string[] {
    return [...this.registrations.values()].filter((r) => r.job).map((r) => r.name);
  }

  readonly registrar: Registrar = {
    register: async (name) => {
      await this.#release(`register ${name}`);
      const id = this.#nextId++;
      this.registrations.set(id, { name, job: false });
      this.log.push(`register ${name}`);
      this.#check(`register ${name}`);
      return { runnerId: id, jitConfig: new Secret(`jit-${id}-${'x'.repeat(16)}`) };
    },
    unregister: async (id) => {
      await this.#release(`deregister ${id}`);
      this.log.push(`deregister ${id}`);
      if (this.faults.deregister > 0) {
        this.faults.deregister--;
        throw new Error('GitHub answered 500');
      }
      const reg = this.registrations.get(id);
      if (!reg) return 'not-found';
      if (reg.job) return 'busy';
      this.registrations.delete(id);
      return 'removed';
    },
  };

  readonly backend: RunnerBackend = {
    kind: 'noop',
    resourceKind: 'container',
    capabilities: {},
    prepare: async () => {},
    start: async (spec: RunnerSpec): Promise<RunnerHandle> => {
      await this.#release(`start ${spec.name}`);
      this.log.push(`start ${spec.name}`);
      if (this.faults.capacity > 0) {
        this.faults.capacity--;
        throw new BackendCapacityError('full');
      }
      if (this.faults.start > 0) {
        this.faults.start--;
        throw Object.assign(new Error('engine said no'), { code: 'ENGINE' });
      }
      this.resources.set(spec.name, 'running');
      this.#check(`start ${spec.name}`);
      return { name: spec.name, resourceId: `res-${spec.name}`, tier: 'cold' };
    },
    remove: async (name: string) => {
      await this.#release(`remove ${name}`);
      this.log.push(`remove ${name}`);
      if (this.faults.remove > 0) {
        this.faults.remove--;
        throw new Error('Could not kill running container');
      }
      const id = this.idOf(name);
      if (id !== undefined && this.registrations.get(id)?.job && this.resources.get(name) === 'running') {
        this.violations.push(`remove ${name}: a job is running on it`);
      }
      this.resources.delete(name);
    },
    listOwned: async (): Promise<OwnedRunner[]> =>
      [...this.resources].map(([name, state]) => ({
        name,
        resourceId: `res-${name}`,
        state,
        runnerId: this.idOf(name),
      })),
    events: (signal: AbortSignal) => this.hub.subscribe(signal),
    poolStatus: () => ({}),
    close: async () => {},
  };
}
