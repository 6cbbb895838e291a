import { createHash } from 'node:crypto';
import { BackendCapacityError } from '../types.js';

/** A machine's size as an account quota counts it. */
export interface MachineSize {
  vcpu: number;
  memoryMib: number;
}

/** An account quota: vCPUs and memory awake at once; 0 in a dimension: no cap. */
export type Quota = MachineSize;

interface Member {
  quota: Quota;
  size: MachineSize;
  /** Machines of this backend that are awake or on their way there (created, claimed, woken). */
  awake(): number;
}

/**
 * Process-wide accounting of a Dedalus account's quota of vCPUs and memory, like mvm's tenant quotas:
 * every Dedalus backend of the process (the job shapes of a set among them) that talks to one account
 * registers here, and a wake or create that would take the account's awake machines past its quota
 * waits instead. What counts is machines awake or becoming so: asleep, a machine holds no vCPU or
 * memory (the platform bills it none), while its storage is bounded by `max` per scale set. Whether
 * the platform's own plan limits count sleeping machines is not documented; if they do, its refusal
 * still arrives as a capacity error (provision.ts), and this book only ever errs on the side of less.
 *
 * Each cap is the smallest any member declares, as for Tart's Mac budget: the strictest setting wins.
 */
export class DedalusAccounts {
  readonly #accounts = new Map<string, Set<Member>>();

  /** Adds a backend's machines to `account`'s book; returns the unregister function. */
  register(account: string, member: Member): () => void {
    let members = this.#accounts.get(account);
    if (!members) {
      members = new Set();
      this.#accounts.set(account, members);
    }
    members.add(member);
    return () => {
      members.delete(member);
      if (members.size === 0) this.#accounts.delete(account);
    };
  }

  quota(account: string): Quota {
    const q = { vcpu: 0, memoryMib: 0 };
    for (const m of this.#accounts.get(account) ?? []) {
      for (const dim of ['vcpu', 'memoryMib'] as const) {
        const v = m.quota[dim];
        if (v > 0 && (q[dim] === 0 || v < q[dim])) q[dim] = v;
      }
    }
    return q;
  }

  /** vCPUs and memory the account's machines hold awake now, as this process knows them. */
  used(account: string): MachineSize {
    const u = { vcpu: 0, memoryMib: 0 };
    for (const m of this.#accounts.get(account) ?? []) {
      const n = m.awake();
      u.vcpu += n * m.size.vcpu;
      u.memoryMib += n * m.size.memoryMib;
    }
    return u;
  }

  /** Why one more awake machine of `size` would exceed the quota (the first full dimension), or undefined. */
  fullFor(account: string, size: MachineSize): string | undefined {
    const q = this.quota(account);
    const u = this.used(account);
    if (q.vcpu > 0 && u.vcpu + size.vcpu > q.vcpu)
      return `vCPUs ${u.vcpu}/${q.vcpu} awake, ${size.vcpu} more asked (dedalus.quota-vcpu)`;
    if (q.memoryMib > 0 && u.memoryMib + size.memoryMib > q.memoryMib)
      return `memory ${u.memoryMib}/${q.memoryMib} MiB awake, ${size.memoryMib} more asked (dedalus.quota-memory-mib)`;
    return undefined;
  }
}

/** The one book of this process. */
export const dedalusAccounts = new DedalusAccounts();

/**
 * The account a backend talks to: its endpoint and API key, hashed so the key never appears in a
 * budget name, a log line or a map that a heap dump shows.
 */
export function accountOf(baseUrl: string, apiKey: string): string {
  return createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex').slice(0, 16);
}

/** What a backend's config says of its account and size (the `[dedalus]` keys involved). */
export interface QuotaConfig {
  baseUrl: string;
  apiKey?: { reveal(): string };
  vcpu: number;
  memoryMib: number;
  quotaVcpu: number;
  quotaMemoryMib: number;
}

/** One backend's place in its account's book: its size, its awake machines, and the checks it makes. */
export class QuotaShare {
  readonly account: string;
  /** True when this set declares a quota (then every set on the account does: config checks it). */
  readonly limited: boolean;
  readonly #size: MachineSize;
  readonly #book: DedalusAccounts;
  #unregister: (() => void) | undefined;

  constructor(cfg: QuotaConfig, env: NodeJS.ProcessEnv, awake: () => number, book = dedalusAccounts) {
    this.account = accountOf(cfg.baseUrl, cfg.apiKey?.reveal() ?? env.DEDALUS_API_KEY ?? '');
    this.limited = cfg.quotaVcpu > 0 || cfg.quotaMemoryMib > 0;
    this.#size = { vcpu: cfg.vcpu, memoryMib: cfg.memoryMib };
    this.#book = book;
    this.#unregister = book.register(this.account, {
      quota: { vcpu: cfg.quotaVcpu, memoryMib: cfg.quotaMemoryMib },
      size: this.#size,
      awake,
    });
  }

  /** Why one more awake machine of this set would pass the account's quota; undefined when it fits. */
  full(): string | undefined {
    return this.#book.fullFor(this.account, this.#size);
  }

  /** Throws a capacity error (a budget the account's sets share) when one more awake machine does not fit. */
  need(): void {
    const why = this.full();
    if (why !== undefined)
      throw new BackendCapacityError(`the Dedalus account's quota is full: ${why}`, { limit: 'budget' });
  }

  drop(): void {
    this.#unregister?.();
    this.#unregister = undefined;
  }
}
