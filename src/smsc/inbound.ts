// Requests from carriers: a deliver_sm (or data_sm) is either a receipt for one of our messages or
// an MO from a subscriber. Both are committed before the carrier gets its response.
import { parseReceipt, isReceipt } from '../dlr/receipt.js';
import type { ReceiptService } from '../dlr/service.js';
import { SmppError } from '../smpp/errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { MoRouter } from '../routing/mo.js';
import { encodeAs } from '../smpp/codec.js';
import { ESME_RINVMSGLEN, ESME_RMSGQFUL, Status, MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import type { Pdu, PduOf } from '../smpp/pdu.js';
import type { ResponseInit } from '../smpp/session.js';
import type { GroupCommit } from '../store/group-commit.js';
import { StoreUnavailableError } from '../store/health.js';
import type { Outbox, OutboxItem, OutboxRecord } from '../store/outbox.js';
import type { DefaultAlphabet } from '../text/codings.js';
import { textOf } from '../text/content.js';
import { recode } from '../text/recode.js';

export interface InboundOptions {
  commit: GroupCommit;
  outbox: Outbox;
  receipts: ReceiptService;
  router: () => MoRouter;
  /** The internal id of the live account with this system_id (MO routes name accounts by system_id). */
  accountId: (systemId: string) => number | undefined;
  deliver: (items: OutboxItem[]) => void;
  metrics: Metrics;
  logger: Logger;
  /** What data_coding 0 means to an account and to a carrier (default: GSM for both: nothing recoded). */
  dc0?: { account(accountId: number): DefaultAlphabet; connector(id: string): DefaultAlphabet };
  /** How long an MO waits for its account to bind. */
  ttlMs: number;
  /** The largest PDU an account is sent (smpp.session.maxPduSize). */
  maxPduSize: number;
  now?: () => number;
}

/** The largest short_message; a longer MO body travels in message_payload. */
const SHORT_MESSAGE_MAX = 254;
/** The most a recoded MO body may take (UCS2 where the account's default alphabet falls short). */
const PAYLOAD_MAX = 65_535;

export class Inbound {
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: InboundOptions) {
    this.log = o.logger.child({ part: 'inbound' });
    this.now = o.now ?? Date.now;
  }

  handle(pdu: Pdu, connector: string): Promise<ResponseInit> {
    return this.take(pdu, connector).catch(refuseIfNotStored);
  }

  private async take(pdu: Pdu, connector: string): Promise<ResponseInit> {
    if (pdu.command === 'deliver_sm') {
      if (isReceipt(pdu.esm_class)) {
        const receipt = parseReceipt(pdu);
        if (!receipt) {
          this.log.warn({ connector }, 'receipt without a message id; acknowledged and dropped');
          return {};
        }
        await this.o.receipts.onCarrierReceipt(connector, receipt);
        return {};
      }
      return this.mo(pdu, connector);
    }
    if (pdu.command === 'data_sm') {
      // data_sm from a carrier: a receipt, or an MO passed on as a deliver_sm (its text in
      // message_payload); answered after commit either way.
      if (isReceipt(pdu.esm_class)) {
        const receipt = parseReceipt(pdu);
        if (receipt) await this.o.receipts.onCarrierReceipt(connector, receipt);
        return { message_id: '' };
      }
      const asDeliver: PduOf<'deliver_sm'> = {
        ...pdu,
        command: 'deliver_sm',
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: '',
        validity_period: '',
        replace_if_present_flag: 0,
        sm_default_msg_id: 0,
        short_message: Buffer.alloc(0),
      };
      await this.mo(asDeliver, connector);
      return { message_id: '' };
    }
    if (pdu.command === 'alert_notification') return {};
    throw new SmppError(Status.ESME_RINVCMDID, `${pdu.command} is not handled from carriers`);
  }

  private async mo(received: PduOf<'deliver_sm'>, connector: string): Promise<ResponseInit> {
    let pdu = received;
    const content = { esmClass: pdu.esm_class, dataCoding: pdu.data_coding, shortMessage: pdu.short_message, tlvs: pdu.tlvs };
    const from = this.o.dc0?.connector(connector) ?? 'gsm';
    const route = this.o.router().route({ destination: pdu.destination_addr, source: pdu.source_addr, text: textOf(content, from), connector });
    const accountId = route ? this.o.accountId(route.account) : undefined;
    if (!route || accountId === undefined) {
      this.o.metrics.mos.inc({ result: 'unrouted' });
      this.log.warn({ connector, to: pdu.destination_addr }, 'MO matches no MO route; refused');
      throw new SmppError(Status.ESME_RINVDSTADR, 'no MO route');
    }
    // Written in the account's default alphabet where it means another than the carrier's.
    const recoded = recode(content, from, this.o.dc0?.account(accountId) ?? 'gsm', PAYLOAD_MAX);
    if (recoded) pdu = withBody(pdu, recoded.dataCoding, recoded.body);
    // A data_sm at the size limit grows as a deliver_sm: refuse it rather than store what no account could take.
    const size = encodeAs('deliver_sm', 1, 0, pdu).length;
    if (size > this.o.maxPduSize) throw new SmppError(ESME_RINVMSGLEN, `MO is ${size} bytes as a deliver_sm; the limit is ${this.o.maxPduSize}`);
    // Passed on as the carrier sent it (TLVs included), its text recoded if need be. Copies: the
    // decoded fields are views into the socket's buffer.
    const record: OutboxRecord = {
      kind: 'mo',
      source: { addr: pdu.source_addr, ton: pdu.source_addr_ton, npi: pdu.source_addr_npi },
      destination: { addr: pdu.destination_addr, ton: pdu.dest_addr_ton, npi: pdu.dest_addr_npi },
      serviceType: pdu.service_type,
      esmClass: pdu.esm_class,
      protocolId: pdu.protocol_id,
      priorityFlag: pdu.priority_flag,
      registeredDelivery: pdu.registered_delivery,
      dataCoding: pdu.data_coding,
      body: Buffer.from(pdu.short_message),
      tlvs: pdu.tlvs ? pdu.tlvs.map((t) => ({ tag: t.tag, value: Buffer.from(t.value) })) : [],
      messageId: null,
      receipt: null,
    };
    const item = await this.o.commit.run(() => this.o.outbox.add(accountId, record, this.now(), this.o.ttlMs));
    this.o.metrics.mos.inc({ result: 'routed' });
    this.o.deliver([item]);
    return {};
  }
}

/** `pdu` with a new body: in short_message if it was there and still fits, else in message_payload. */
function withBody(pdu: PduOf<'deliver_sm'>, dataCoding: number, body: Buffer): PduOf<'deliver_sm'> {
  const tlvs = (pdu.tlvs ?? []).filter((t) => t.tag !== MESSAGE_PAYLOAD_TAG);
  if (pdu.short_message.length > 0 && body.length <= SHORT_MESSAGE_MAX) return { ...pdu, data_coding: dataCoding, short_message: body };
  return { ...pdu, data_coding: dataCoding, short_message: Buffer.alloc(0), tlvs: [...tlvs, { tag: MESSAGE_PAYLOAD_TAG, value: body }] };
}

/** Not stored (disk full, locked, lost): a temporary error, so the carrier sends it again later. */
function refuseIfNotStored(err: unknown): never {
  throw err instanceof StoreUnavailableError ? new SmppError(ESME_RMSGQFUL, 'cannot store now') : err;
}
