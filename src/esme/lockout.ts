// Repeated failed binds lock out, for a while, the (address, system_id) pair that failed: a
// password guesser gets a few tries at one account, then ESME_RBINDFAIL at once (no password check
// at all) until the lockout ends. Other accounts behind the same address (a provider's NAT, a
// shared host) keep binding. An address guessing across many system_ids is locked as a whole only
// past a much higher count (`addressFailures`). A stranger cannot lock a provider out of its own
// account from elsewhere. Each lockout is logged and counted; `list` and `clear` serve the operator.
import type { LockoutFilter } from '../metrics.js';
import type { Clock } from '../clock.js';

export interface LockoutPolicy {
  /** Failed binds of one system_id from one address within `windowMs` that lock that pair (0 turns lockouts off). */
  failures: number;
  /** Failed binds from one address, whatever the system_id, within `windowMs` that lock the address (0: never). */
  addressFailures: number;
  windowMs: number;
  lockMs: number;
}

/** What a lockout holds: one account from one address, or every bind from the address. */
export type LockoutKind = 'system_id' | 'ip';

export interface LockoutInfo {
  kind: LockoutKind;
  address: string;
  /** Set for kind system_id. */
  systemId?: string;
  /** When the lockout ends (ms since the epoch). */
  until: number;
}

interface Entry {
  kind: LockoutKind;
  address: string;
  systemId?: string;
  failures: number[];
  lockedUntil: number;
}

/** Entries kept before old ones are pruned (an address rotating system_ids is locked long before). */
const PRUNE_AT = 10_000;

export class BindLockout {
  private readonly byKey = new Map<string, Entry>();

  constructor(
    /** Replaced on a configuration reload. */
    public policy: LockoutPolicy,
    private readonly clock: Clock,
    /** Told of each new lockout. */
    private readonly onLock: (lock: LockoutInfo) => void = () => {},
  ) {}

  /** What is locked out among this address and system_id, if anything. */
  locked(ip: string, systemId: string): LockoutKind | undefined {
    if (this.policy.failures <= 0) return undefined;
    const now = this.clock.now();
    if ((this.byKey.get(ipKey(ip))?.lockedUntil ?? 0) > now) return 'ip';
    if ((this.byKey.get(pairKey(ip, systemId))?.lockedUntil ?? 0) > now) return 'system_id';
    return undefined;
  }

  /** Records a failed bind. */
  failed(ip: string, systemId: string): void {
    if (this.policy.failures <= 0) return;
    const now = this.clock.now();
    this.count(now, pairKey(ip, systemId), { kind: 'system_id', address: ip, systemId }, this.policy.failures);
    if (this.policy.addressFailures > 0) this.count(now, ipKey(ip), { kind: 'ip', address: ip }, this.policy.addressFailures);
    this.prune(now);
  }

  /**
   * A good bind clears the failures of its system_id from that address; not the address's own
   * (one valid account must not reset a guesser's count).
   */
  succeeded(ip: string, systemId: string): void {
    this.byKey.delete(pairKey(ip, systemId));
  }

  /** The lockouts in force, oldest ending first, matching the filter. */
  list(filter: LockoutFilter = {}): LockoutInfo[] {
    const now = this.clock.now();
    return [...this.byKey.values()]
      .filter((e) => e.lockedUntil > now && matches(e, filter))
      .map((e) => ({ kind: e.kind, address: e.address, ...(e.systemId !== undefined ? { systemId: e.systemId } : {}), until: e.lockedUntil }))
      .sort((a, b) => a.until - b.until);
  }

  /** Ends the lockouts matching the filter (all without one) and forgets their failures; how many ended. */
  clear(filter: LockoutFilter = {}): number {
    const now = this.clock.now();
    let ended = 0;
    for (const [key, e] of this.byKey) {
      if (!matches(e, filter)) continue;
      if (e.lockedUntil > now) ended++;
      this.byKey.delete(key);
    }
    return ended;
  }

  /** Lockouts in force by kind (for the gauge). */
  counts(): Record<LockoutKind, number> {
    const now = this.clock.now();
    const out: Record<LockoutKind, number> = { ip: 0, system_id: 0 };
    for (const e of this.byKey.values()) if (e.lockedUntil > now) out[e.kind]++;
    return out;
  }

  /** Entries kept (bounded: old ones are dropped as they age out). */
  get size(): number {
    return this.byKey.size;
  }

  private count(now: number, key: string, what: Omit<Entry, 'failures' | 'lockedUntil'>, threshold: number): void {
    const e = this.byKey.get(key) ?? { ...what, failures: [], lockedUntil: 0 };
    e.failures = e.failures.filter((t) => t > now - this.policy.windowMs);
    e.failures.push(now);
    if (e.failures.length >= threshold && e.lockedUntil <= now) {
      e.lockedUntil = now + this.policy.lockMs;
      e.failures = [];
      this.onLock({ kind: e.kind, address: e.address, ...(e.systemId !== undefined ? { systemId: e.systemId } : {}), until: e.lockedUntil });
    }
    this.byKey.set(key, e);
  }

  private prune(now: number): void {
    if (this.byKey.size < PRUNE_AT) return;
    for (const [key, e] of this.byKey) {
      if (e.lockedUntil <= now && e.failures.every((t) => t <= now - this.policy.windowMs)) this.byKey.delete(key);
    }
  }
}

function ipKey(ip: string): string {
  return `ip:${ip}`;
}

function pairKey(ip: string, systemId: string): string {
  return `id:${ip}\u0000${systemId}`;
}

function matches(e: Entry, filter: LockoutFilter): boolean {
  if (filter.address !== undefined && e.address !== filter.address) return false;
  // A system_id names pair lockouts only: unlocking one account must not end a guesser's address lockout.
  if (filter.systemId !== undefined && e.systemId !== filter.systemId) return false;
  return true;
}
