// Repeated failed binds lock out, for a while, their source address and the system_id as tried
// from that address: a password guesser gets a few tries, then ESME_RBINDFAIL at once (no password
// check at all) until the lockout ends. The system_id is locked per address, so a stranger cannot
// lock a provider out of its own account. Each lockout is logged and counted.
import type { Clock } from '../clock.js';

export interface LockoutPolicy {
  /** Failed binds within `windowMs` that lock out (0 turns lockouts off). */
  failures: number;
  windowMs: number;
  lockMs: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class BindLockout {
  private readonly byKey = new Map<string, Entry>();

  constructor(
    /** Replaced on a configuration reload. */
    public policy: LockoutPolicy,
    private readonly clock: Clock,
    /** Told of each new lockout: `kind` is 'ip' or 'system_id'. */
    private readonly onLock: (kind: 'ip' | 'system_id', value: string, untilMs: number) => void = () => {},
  ) {}

  /** What is locked out among this address and system_id, if anything. */
  locked(ip: string, systemId: string): 'ip' | 'system_id' | undefined {
    if (this.policy.failures <= 0) return undefined;
    const now = this.clock.now();
    if ((this.byKey.get(`ip:${ip}`)?.lockedUntil ?? 0) > now) return 'ip';
    if ((this.byKey.get(`id:${ip}\u0000${systemId}`)?.lockedUntil ?? 0) > now) return 'system_id';
    return undefined;
  }

  /** Records a failed bind. */
  failed(ip: string, systemId: string): void {
    if (this.policy.failures <= 0) return;
    this.count('ip', ip, `ip:${ip}`);
    this.count('system_id', systemId, `id:${ip}\u0000${systemId}`);
  }

  /**
   * A good bind clears the failures of its system_id from that address; not the address's own
   * (one valid account must not reset a guesser's count).
   */
  succeeded(ip: string, systemId: string): void {
    this.byKey.delete(`id:${ip}\u0000${systemId}`);
  }

  /** Entries kept (bounded: old ones are dropped as they age out). */
  get size(): number {
    return this.byKey.size;
  }

  private count(kind: 'ip' | 'system_id', value: string, key: string): void {
    const now = this.clock.now();
    const e = this.byKey.get(key) ?? { failures: [], lockedUntil: 0 };
    e.failures = e.failures.filter((t) => t > now - this.policy.windowMs);
    e.failures.push(now);
    if (e.failures.length >= this.policy.failures && e.lockedUntil <= now) {
      e.lockedUntil = now + this.policy.lockMs;
      e.failures = [];
      this.onLock(kind, value, e.lockedUntil);
    }
    this.byKey.set(key, e);
    this.prune(now);
  }

  private prune(now: number): void {
    if (this.byKey.size < 10_000) return;
    for (const [key, e] of this.byKey) {
      if (e.lockedUntil <= now && e.failures.every((t) => t <= now - this.policy.windowMs)) this.byKey.delete(key);
    }
  }
}
