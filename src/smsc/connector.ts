// One carrier link: its bind(s) (a transceiver, or a transmitter + receiver pair), its queue of
// messages waiting to go out, and the token bucket and window that pace them. What a submit's
// outcome means (retry, failover, receipt) is the dispatcher's business, not this file's.
import type { Clock, TimerHandle } from '../clock.js';
import { GatewayError } from '../errors.js';
import { SmppError } from '../smpp/errors.js';
import type { Logger } from '../log.js';
import { TokenBucket } from '../rate/token-bucket.js';
import { SmppClient } from '../smpp/client.js';
import { decode, encode } from '../smpp/codec.js';
import type { PduOf, Pdu } from '../smpp/pdu.js';
import type { SessionDefaults } from '../smpp/server.js';
import type { Session } from '../smpp/session.js';
import { registeredDeliveryOffset } from '../smpp/patch.js';
import { MESSAGE_PAYLOAD_TAG, Status } from '../smpp/defs.js';
import type { Connector } from '../store/connectors.js';
import type { DefaultAlphabet } from '../text/codings.js';
import { recode } from '../text/recode.js';
import { FairQueue } from './fair-queue.js';
import { priorityFlagOffset } from './priority.js';
import type { CarrierLink, CarrierRequest, ConnectorHooks, Outgoing, SubmitOutcome } from './link.js';

const ESME_RSYSERR = Status.ESME_RSYSERR;

export type { ConnectorHooks, Outgoing, SubmitOutcome } from './link.js';

export interface ConnectorOptions {
  config: Connector;
  hooks: ConnectorHooks;
  clock: Clock;
  logger: Logger;
  session?: SessionDefaults;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  /** What data_coding 0 means in an account's messages (default: what the carrier means: nothing recoded). */
  accountDc0?: (accountId: number) => DefaultAlphabet;
  /** Characters of a message written as '?' because the carrier's default alphabet has none such. */
  substituted?: (connector: string, count: number) => void;
}

/** The largest short_message sent recoded: one SMS's user data (a body in message_payload may be longer). */
const SMS_OCTETS = 140;
const PAYLOAD_OCTETS = 65_535;

/** A copy of an encoded submit_sm without its schedule_delivery_time. */
function unscheduled(submitSm: Buffer): Buffer {
  return encode({ ...(decode(submitSm) as PduOf<'submit_sm'>), schedule_delivery_time: '' });
}

export class ConnectorLink implements CarrierLink {
  readonly id: string;
  private config: Connector;
  private readonly queue = new FairQueue();
  private readonly bucket: TokenBucket;
  private readonly clients: SmppClient[] = [];
  private tx: Session | undefined;
  private pumpTimer: TimerHandle | undefined;
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: ConnectorOptions) {
    this.config = o.config;
    this.id = o.config.id;
    this.log = o.logger.child({ connector: this.id });
    this.bucket = new TokenBucket(o.config.tps, o.clock);
  }

  /** Bound and able to send. */
  get up(): boolean {
    return this.tx?.isBound === true;
  }

  get queued(): number {
    return this.queue.length;
  }

  oldest(priority: boolean): number | undefined {
    return this.queue.oldest(priority);
  }

  get inFlight(): number {
    return this.tx?.inFlight ?? 0;
  }

  /** A request other than a submit (cancel_sm, replace_sm) on the bound transmitting session. */
  forward(pdu: CarrierRequest): Promise<number> | undefined {
    const session = this.up ? this.tx : undefined;
    if (!session) return undefined;
    const sent = pdu.command === 'cancel_sm' ? session.request(pdu) : session.request(pdu);
    return sent.then((resp) => resp.command_status);
  }

  get settings(): Connector {
    return this.config;
  }

  start(): void {
    const c = this.config;
    const types = c.bind === 'trx' ? (['bind_transceiver'] as const) : (['bind_transmitter', 'bind_receiver'] as const);
    for (const command of types) {
      const client = new SmppClient({
        host: c.host,
        port: c.port,
        ...(c.tls ? { tls: { ...this.o.tls } } : {}),
        bind: { command, system_id: c.systemId, password: c.password, system_type: c.systemType },
        session: { ...this.o.session, window: c.window },
        clock: this.o.clock,
        logger: this.log,
        handlers: { request: (pdu) => this.o.hooks.inbound(pdu, this.id) },
        onBound: (session) => {
          if (command !== 'bind_receiver') {
            this.tx = session;
            this.o.hooks.state(this.id, true);
            this.pump();
          }
        },
        onUnbound: (reason) => {
          if (command !== 'bind_receiver') {
            this.tx = undefined;
            this.log.warn({ reason }, 'connector down');
            this.o.hooks.state(this.id, false);
          }
        },
      });
      this.clients.push(client);
      client.start();
    }
  }

  /** Takes new rate and window settings without dropping the bind. */
  update(config: Connector): void {
    this.config = config;
    this.bucket.setRate(config.tps);
  }

  /** The carrier said "throttled": halve the rate for a while. */
  slowDown(): void {
    this.bucket.slowDown(0.5, 10_000);
  }

  enqueue(msg: Outgoing): void {
    this.queue.push(msg);
    this.pump();
  }

  /** Forgets queued messages that were cancelled or expired while waiting (a link that is down keeps its queue). */
  dropCancelled(): void {
    for (const msg of this.queue.drain()) if (!msg.cancelled) this.queue.push(msg);
  }

  /** Takes every queued message out (to reroute them when this connector goes away). */
  drainQueue(): Outgoing[] {
    return this.queue.drain();
  }

  /** Unbinds (waiting for in-flight responses up to the deadline) and stops reconnecting. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopped = true;
    if (this.pumpTimer !== undefined) this.o.clock.clearTimeout(this.pumpTimer);
    await Promise.all(this.clients.map((c) => c.close(deadlineMs)));
  }

  /** Sends what the window and the bucket allow; comes back when either frees up. */
  pump(): void {
    const session = this.tx;
    if (this.stopped || session === undefined || !session.isBound) return;
    while (this.queue.length > 0 && session.canSend) {
      if (!this.bucket.take()) {
        if (this.pumpTimer === undefined) {
          this.pumpTimer = this.o.clock.setTimeout(
            () => {
              this.pumpTimer = undefined;
              this.pump();
            },
            Math.max(1, this.bucket.waitMs()),
          );
        }
        return;
      }
      const msg = this.queue.shift()!;
      if (msg.cancelled) continue;
      if (this.o.clock.wallNow() >= msg.expiresAt) {
        this.o.hooks.result(msg, { kind: 'expired', ms: 0 }, this.id);
        continue;
      }
      try {
        this.send(session, msg);
      } catch (err) {
        // A stored PDU that cannot be sent (damaged): the dispatcher's rules decide, as for a carrier's system error.
        msg.inFlight = false;
        this.log.error({ msgId: msg.id, err: (err as Error).message }, 'message cannot be sent');
        this.o.hooks.result(msg, { kind: 'status', status: ESME_RSYSERR, ms: 0 }, this.id);
      }
    }
  }

  private send(session: Session, msg: Outgoing): void {
    const started = this.o.clock.now();
    msg.attempts++;
    msg.inFlight = true;
    // We always ask the carrier for a receipt: the ledger needs the final state even when the
    // account did not ask for one. A copy: the stored PDU stays as the account sent it.
    // --schedule hold: the gateway held it until due; the carrier must not hold it again.
    let bytes = this.config.schedule === 'hold' && msg.pdu[priorityFlagOffset(msg.pdu) + 1] !== 0 ? unscheduled(msg.pdu) : Buffer.from(msg.pdu);
    const rd = registeredDeliveryOffset(bytes);
    bytes[rd] = (bytes[rd]! & ~0x03) | 0x01;
    // --forward-priority no: the carrier sees every message at its normal priority.
    if (!this.config.forwardPriority) bytes[priorityFlagOffset(bytes)] = 0;
    // Where the account and the carrier mean different alphabets by data_coding 0, the text is
    // written as the carrier reads it.
    const dc0 = this.o.accountDc0?.(msg.accountId);
    if (dc0 !== undefined && dc0 !== this.config.dc0 && bytes[rd + 2] === 0) bytes = this.recoded(bytes, dc0);
    // Outcomes are handled synchronously (see Session.requestEncoded): the carrier id is queued
    // for commit before a receipt right behind the response is looked up.
    const answered = (resp: Pdu) => {
      const ms = this.o.clock.now() - started;
      this.outcome(
        msg,
        resp.command_status === 0
          ? { kind: 'ok', smscId: (resp as PduOf<'submit_sm_resp'>).message_id, ms }
          : { kind: 'status', status: resp.command_status, ms },
      );
    };
    // --on-timeout wait: a timed-out submit is not sent again; its answer is listened for as long
    // as the carrier keeps answering others (or 5 response timeouts), then it counts as unanswered.
    const wait = this.config.onTimeout === 'wait';
    const late = wait
      ? {
          ms: 5 * session.responseTimeoutMs,
          handle: (resp: Pdu | undefined) => (resp ? answered(resp) : this.outcome(msg, { kind: 'unanswered', ms: this.o.clock.now() - started })),
        }
      : undefined;
    session.requestEncoded(
      'submit_sm',
      bytes,
      answered,
      (err) => {
        const ms = this.o.clock.now() - started;
        if (err instanceof SmppError) this.outcome(msg, { kind: 'status', status: err.status, ms });
        else if (err instanceof GatewayError && err.code === 'SMPP_RESPONSE_TIMEOUT') {
          // Still on the wire as far as we know while we wait for its late answer.
          if (wait) this.report(msg, { kind: 'timeout', ms, waiting: true });
          else this.outcome(msg, { kind: 'timeout', ms });
        } else this.outcome(msg, { kind: 'closed', ms });
      },
      late,
    );
  }

  /** A submit_sm's text re-encoded from the account's data_coding 0 to the carrier's. */
  private recoded(bytes: Buffer, from: DefaultAlphabet): Buffer {
    const sm = decode(bytes) as PduOf<'submit_sm'>;
    const inPayload = sm.short_message.length === 0;
    const r = recode(
      { esmClass: sm.esm_class, dataCoding: sm.data_coding, shortMessage: sm.short_message, tlvs: sm.tlvs },
      from,
      this.config.dc0,
      inPayload ? PAYLOAD_OCTETS : SMS_OCTETS,
    );
    if (!r) return bytes;
    if (r.substituted > 0) this.o.substituted?.(this.id, r.substituted);
    const tlvs = inPayload ? sm.tlvs?.map((t) => (t.tag === MESSAGE_PAYLOAD_TAG ? { tag: t.tag, value: r.body } : t)) : sm.tlvs;
    return encode({ ...sm, data_coding: r.dataCoding, short_message: inPayload ? sm.short_message : r.body, tlvs });
  }

  /**
   * Submits went unanswered several times in a row: probe the link with enquire_link (unanswered,
   * the session drops itself as dead), then close it in order so the client binds again. What was
   * in flight comes back as `closed` and is sent again (or fails over).
   */
  rebind(timeouts: number): void {
    const session = this.tx;
    if (this.stopped || session === undefined || !session.isBound) return;
    session
      .enquireLink()
      .then(
        () => 'answered',
        () => 'unanswered',
      )
      .then((probe) => {
        this.log.warn({ timeouts, enquireLink: probe }, 'submit_sm response timeouts in a row; binding again');
        void session.close('rebind after response timeouts', 2_000);
      });
  }

  private outcome(msg: Outgoing, outcome: SubmitOutcome): void {
    msg.inFlight = false;
    this.report(msg, outcome);
  }

  private report(msg: Outgoing, outcome: SubmitOutcome): void {
    try {
      this.o.hooks.result(msg, outcome, this.id);
      this.pump();
    } catch (err) {
      // Called from inside the session's read loop: a throw here must not take the session down.
      this.log.error({ err: (err as Error).message, msgId: msg.id }, 'handling a submit outcome failed');
    }
  }
}
