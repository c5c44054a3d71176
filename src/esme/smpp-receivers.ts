// SMPP sessions as outbox receivers: an account's bound rx/trx sessions (BindRegistry), round-robin,
// each sent the deliver_sm rendered from a record (esme/deliver-sm.ts).
//
// A session that answers, but slowly, is not sent more than it can take: each has its own window of
// outstanding deliver_sm (AIMD: halved on a response timeout, one more per OK, never below 1, at
// most the session's window), and a deliver_sm that timed out is not settled while its late answer
// may still come (lateFactor × the response timeout): a late OK is an acceptance (no duplicate); no
// answer by then, an error, or the session's end is a retry.
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IdFormat } from '../messages/ids.js';
import type { Offered, Receiver, Receivers } from '../messages/receiver.js';
import type { Metrics } from '../metrics.js';
import { encodeAs } from '../smpp/codec.js';
import type { Pdu } from '../smpp/pdu.js';
import type { Session } from '../smpp/session.js';
import type { OutboxItem } from '../store/outbox.js';
import { renderDeliverSm, type DeliverSm } from './deliver-sm.js';
import type { BindRegistry } from './registry.js';
import type { DefaultAlphabet } from '../text/codings.js';

export interface SmppReceiversOptions {
  registry: BindRegistry;
  metrics: Metrics;
  logger: Logger;
  /** The system_id of an account id, for metrics and logs. */
  name: (accountId: number) => string;
  /** How the account sees ids (undefined once removed: hex). */
  idFormat: (accountId: number) => IdFormat | undefined;
  /** What data_coding 0 means to the account (receipts are written so; default GSM). */
  dc0?: (accountId: number) => DefaultAlphabet | undefined;
  /** The public id of a ledger row, in a format (default: the row number). */
  formatId?: (row: number, format: IdFormat) => string;
  /** After a response timeout, a late answer is still taken for this many response timeouts (default 5). */
  lateFactor?: number;
}

/** One receiving session's adaptive window. */
interface Pace {
  /** deliver_sm it may have outstanding now (1..max). */
  allowed: number;
  /** Sent and not settled: awaiting the answer, or a late one after a timeout. */
  outstanding: number;
  max: number;
}

const plainId = (row: number, format: IdFormat) => (format === 'dec' ? String(row) : row.toString(16));

class SessionReceiver implements Receiver {
  readonly pace: Pace;

  constructor(
    private readonly session: Session,
    private readonly o: SmppReceiversOptions,
  ) {
    this.pace = { allowed: session.windowSize, outstanding: 0, max: session.windowSize };
  }

  get hasRoom(): boolean {
    return this.pace.outstanding < this.pace.allowed;
  }

  offer(item: OutboxItem): Promise<Offered> {
    const { o, pace, session } = this;
    let pdu: DeliverSm;
    let bytes: Buffer;
    try {
      const format = o.idFormat(item.accountId) ?? 'hex';
      pdu = renderDeliverSm(item, (row) => (o.formatId ?? plainId)(row, format), o.dc0?.(item.accountId) ?? 'gsm');
      // Encoded here: a record no deliver_sm can carry is known before anything is sent.
      bytes = encodeAs('deliver_sm', 1, 0, pdu);
    } catch (err) {
      // Not renderable or not encodable as a deliver_sm: no session will ever take it.
      o.logger.error(
        { account: o.name(item.accountId), kind: item.kind, item: item.id, err: (err as Error).message },
        'outbox item is not a sendable deliver_sm',
      );
      return Promise.resolve('rejected');
    }
    pace.outstanding++;
    // The closures below stay alive until the answer comes; they reference neither `pdu` nor
    // `bytes`, so a deliver_sm in flight keeps only its item (the rendered objects go at once).
    let resolve!: (outcome: Offered) => void;
    const offered = new Promise<Offered>((r) => (resolve = r));
    let settled = false;
    /** The attempt's end: an answer (on time or late), or none. Runs once. */
    const settle = (resp: Pdu | undefined, onTime: boolean) => {
      if (settled) return;
      settled = true;
      pace.outstanding--;
      if (resp !== undefined && resp.command_status === 0) {
        if (onTime) pace.allowed = Math.min(pace.max, pace.allowed + 1);
        resolve('accepted');
        return;
      }
      if (resp !== undefined)
        o.logger.debug({ account: o.name(item.accountId), status: resp.command_status, item: item.id }, 'account refused deliver_sm; will retry');
      resolve('retry');
    };
    const late = { ms: (o.lateFactor ?? 5) * session.responseTimeoutMs, handle: (resp: Pdu | undefined) => settle(resp, false) };
    const failed = (err: unknown) => {
      if (err instanceof GatewayError && err.code === 'SMPP_RESPONSE_TIMEOUT') {
        // A slow reader: send it less; the answer may still come (late.handle settles it).
        pace.allowed = Math.max(1, Math.floor(pace.allowed / 2));
        o.metrics.outboxTimeouts.inc({ account: o.name(item.accountId) });
        return;
      }
      // Refused (generic_nack), unreadable, or the session ended: offered again later.
      settle(undefined, false);
    };
    if (session.canSend) {
      // The common case: sent now, the answer handled synchronously (no promise per deliver_sm).
      try {
        session.requestEncoded('deliver_sm', bytes, (resp) => settle(resp, true), failed, late);
      } catch (err) {
        failed(err);
      }
    } else {
      // The window or the socket is full: wait in line for a slot.
      session.request(pdu, late).then((resp) => settle(resp, true), failed);
    }
    return offered;
  }
}

export class SmppReceivers implements Receivers {
  private readonly bySession = new WeakMap<Session, SessionReceiver>();
  private readonly listeners: Array<(accountId: number) => void> = [];
  private readonly log: Logger;

  constructor(private readonly o: SmppReceiversOptions) {
    this.log = o.logger.child({ part: 'outbox' });
    this.o = { ...o, logger: this.log };
  }

  next(accountId: number): Receiver | undefined {
    const session = this.o.registry.nextReceiver(accountId, (s) => this.bySession.get(s)?.hasRoom ?? true);
    return session === undefined ? undefined : this.receiver(session);
  }

  onAvailable(listener: (accountId: number) => void): void {
    this.listeners.push(listener);
  }

  /** A receiving session of the account was bound (BindRegistry's callback). */
  available(accountId: number): void {
    for (const l of this.listeners) l(accountId);
  }

  private receiver(session: Session): SessionReceiver {
    let r = this.bySession.get(session);
    if (!r) this.bySession.set(session, (r = new SessionReceiver(session, this.o)));
    return r;
  }
}
