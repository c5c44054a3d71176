// The parts of one message that a sender split itself (UDH or SAR) arrive as separate submits,
// maybe over different binds, and must still reach the handset through one carrier: a round-robin
// route would otherwise scatter them, and a handset cannot join parts that came by different
// networks. A group is known by (account, source, destination, reference, total) for the join
// timeout; every part takes the first part's connectors, in the same order, so they also fail over
// together. Memory only, bounded: a restart or an evicted group costs the stickiness of a
// message's remaining parts, never a part.

export interface PartGroup {
  /** The route's connectors, in the order the first part got them. */
  connectors: string[];
  /** The id of the first part stored (the group's message id); undefined until it is. */
  msg: number | undefined;
  until: number;
}

export interface GroupKey {
  accountId: number;
  source: string;
  destination: string;
  ref: number;
  total: number;
}

export class PartGroups {
  private readonly groups = new Map<string, PartGroup>();

  constructor(
    private readonly ttlMs: number,
    private readonly max = 100_000,
  ) {}

  /** The group of a part: found, or started with `connectors` (the route's choice for this part). */
  join(k: GroupKey, connectors: string[], now: number): PartGroup {
    const key = `${k.accountId}\u0000${k.source}\u0000${k.destination}\u0000${k.ref}\u0000${k.total}`;
    const found = this.groups.get(key);
    if (found && found.until > now) return found;
    if (found) this.groups.delete(key);
    this.sweep(now);
    const group: PartGroup = { connectors, msg: undefined, until: now + this.ttlMs };
    this.groups.set(key, group);
    return group;
  }

  get size(): number {
    return this.groups.size;
  }

  /** Drops expired groups from the oldest (insertion order is expiry order) and the oldest beyond `max`. */
  private sweep(now: number): void {
    for (const [key, g] of this.groups) {
      if (g.until > now && this.groups.size < this.max) break;
      this.groups.delete(key);
    }
  }
}
