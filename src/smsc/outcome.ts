// What a submit's outcome means for the message: record the carrier's id, end it (with the state
// its receipt will carry), fail over to another connector of its route, retry later, or nothing
// yet (a late answer may come). Counts what it sees; acts on nothing itself (dispatcher.ts does).
import { MessageState } from '../smpp/message-state.js';
import type { Metrics } from '../metrics.js';
import { ESME_RTHROTTLED, statusName } from '../smpp/defs.js';
import type { Outgoing, SubmitOutcome } from './link.js';
import type { ErrorRules } from './rules.js';

export type Decision =
  /** The carrier took it: record `smscId`. */
  | { act: 'sent'; smscId: string }
  /** No answer ever came on a `wait` connector: the carrier may have it; kept as sent without a carrier id (its validity ends it). */
  | { act: 'kept' }
  | { act: 'final'; state: number; status: number | null }
  /** Try again: at once on `failover` (another connector of its route is up), else after a backoff. */
  | { act: 'again'; status: number | null }
  /** Nothing to do now (a late answer may come, or cancel_sm ended it meanwhile). */
  | { act: 'none' };

export interface Judged {
  decision: Decision;
  /** The carrier throttled us: its link should slow down. */
  throttled: boolean;
  /** Response timeouts in a row reached the limit on a `reconnect` connector: bind again. */
  rebind: number | undefined;
}

const NONE: Decision = { act: 'none' };

export class OutcomePolicy {
  /** Submit response timeouts in a row, per connector (reset by any answer). */
  private readonly timeoutsInRow = new Map<string, number>();

  constructor(
    public rules: ErrorRules,
    private readonly metrics: Metrics,
  ) {}

  /** Judges `outcome` of sending `msg` on `connector` (a `reconnect` connector when `rebinds`). */
  judge(msg: Outgoing, outcome: SubmitOutcome, connector: string, rebinds: boolean): Judged {
    const judged: Judged = { decision: NONE, throttled: false, rebind: undefined };
    if (outcome.kind === 'expired') {
      judged.decision = { act: 'final', state: MessageState.EXPIRED, status: null }; // never sent: not counted as a submit
      return judged;
    }
    if (outcome.kind === 'unanswered') {
      // --on-timeout wait, and no late answer: the carrier may have it, so it is not sent again.
      if (!msg.cancelled) judged.decision = { act: 'kept' };
      return judged;
    }
    const m = this.metrics;
    const label = outcome.kind === 'ok' ? 'ESME_ROK' : outcome.kind === 'status' ? statusName(outcome.status) : outcome.kind;
    m.connectorSubmits.inc({ connector, status: m.statusLabel(label) });
    m.connectorLatency.observe({ connector }, outcome.ms / 1000);
    if (outcome.kind === 'ok') m.sent.mark(connector);
    if (outcome.kind === 'timeout') judged.rebind = this.timedOut(connector, rebinds);
    else if (outcome.kind !== 'closed') this.timeoutsInRow.delete(connector);
    if (outcome.kind === 'timeout' && outcome.waiting) return judged; // its late answer (or none) comes back here
    if (msg.cancelled) return judged; // cancel_sm ended it meanwhile
    if (outcome.kind === 'ok') {
      judged.decision = { act: 'sent', smscId: outcome.smscId };
      return judged;
    }
    if (outcome.kind === 'status' && outcome.status === ESME_RTHROTTLED) {
      m.connectorThrottled.inc({ connector });
      judged.throttled = true;
    }
    const status = outcome.kind === 'status' ? outcome.status : null;
    if (this.rules.classify(status) === 'permanent') {
      // A refusal is REJECTD; a permanent "no answer" (rules.noResponse) is UNDELIV.
      judged.decision = { act: 'final', state: status === null ? MessageState.UNDELIVERABLE : MessageState.REJECTED, status };
      return judged;
    }
    if (msg.attempts >= this.rules.policy.maxAttempts) {
      judged.decision = { act: 'final', state: MessageState.UNDELIVERABLE, status };
      return judged;
    }
    if (outcome.kind === 'timeout' || outcome.kind === 'closed') {
      // Sent and never answered: the carrier may have it; every resend may be a duplicate, so
      // they are counted and bounded.
      if ((msg.resends ?? 0) >= (this.rules.policy.maxResends ?? 2)) {
        judged.decision = { act: 'final', state: MessageState.UNDELIVERABLE, status: null };
        return judged;
      }
      msg.resends = (msg.resends ?? 0) + 1;
      m.carrierResends.inc({ connector });
    }
    m.retries.inc({ connector });
    judged.decision = { act: 'again', status };
    return judged;
  }

  /** Counts a timeout; returns how many in a row when a `reconnect` connector should bind again. */
  private timedOut(connector: string, rebinds: boolean): number | undefined {
    const n = (this.timeoutsInRow.get(connector) ?? 0) + 1;
    if (n < (this.rules.policy.timeoutsBeforeRebind ?? 3) || !rebinds) {
      this.timeoutsInRow.set(connector, n);
      return undefined;
    }
    this.timeoutsInRow.delete(connector);
    this.metrics.carrierRebinds.inc({ connector });
    return n;
  }
}
