// Carrier message ids that receipts cannot use: an empty one (no receipt can ever name it: the
// message stays sent until its validity ends it EXPIRED) and one longer than SMPP's 64 characters
// (kept whole: its receipt still matches). Each is counted (smppgw_carrier_id_anomalies_total) and
// logged, at most one line per connector per interval, with how many the interval saw.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

/** SMPP 3.4's message_id: a C-Octet String of at most 65 octets with its NUL. */
export const MAX_SMPP_ID = 64;

export type IdAnomaly = 'empty' | 'long';

export function idAnomaly(id: string): IdAnomaly | undefined {
  if (id.trim() === '') return 'empty';
  if (id.length > MAX_SMPP_ID) return 'long';
  return undefined;
}

export class CarrierIdCheck {
  /** Per connector: when its last line was logged, and the anomalies since. */
  private readonly seen = new Map<string, { loggedAt: number; since: Record<IdAnomaly, number> }>();

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 60_000,
  ) {}

  /** Counts and (rate-limited) logs an id receipts cannot use; returns what is wrong with it. */
  check(connector: string, id: string, msgId: number): IdAnomaly | undefined {
    const kind = idAnomaly(id);
    if (kind === undefined) return undefined;
    this.metrics.carrierIdAnomalies.inc({ connector, kind });
    let s = this.seen.get(connector);
    if (!s) this.seen.set(connector, (s = { loggedAt: -Infinity, since: { empty: 0, long: 0 } }));
    s.since[kind]++;
    const now = this.now();
    if (now - s.loggedAt >= this.intervalMs) {
      this.log.warn(
        { connector, kind, msgId, length: id.length, count: { ...s.since } },
        kind === 'empty'
          ? 'carrier accepted a message with an empty message_id: no receipt can match; it stays sent until its validity ends it'
          : `carrier accepted a message with a message_id longer than ${MAX_SMPP_ID} characters: kept whole`,
      );
      s.loggedAt = now;
      s.since = { empty: 0, long: 0 };
    }
    return kind;
  }
}
