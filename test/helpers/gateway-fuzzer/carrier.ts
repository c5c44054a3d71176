// A carrier that means harm, in this process on the project's SmppServer: it answers submits with
// odd message ids (case, leading zeros, other base, control characters, empty, reused), errors and
// throttling, sends receipts before and after their submit_sm_resp with mangled ids, stat and err
// fields, and pushes MOs and receipts (deliver_sm and data_sm) with hostile fields of its own, up to
// the largest PDU the protocol allows.
import { SmppError } from '../../../src/smpp/errors.js';
import { encodeText } from '../../../src/sim/util.js';
import { Status, statusName } from '../../../src/smpp/defs.js';
import type { Pdu, PduInput, Tlv } from '../../../src/smpp/pdu.js';
import { SmppServer } from '../../../src/smpp/server.js';
import type { ResponseInit, Session } from '../../../src/smpp/session.js';
import { hostileAddress, hostileShortMessage, hostileText, hostileTlvs, randomBytes } from '../random-pdu.js';
import { MO_KEYWORDS, MO_SHORT_CODES, dataCoding, filledTo, ton } from './field-values.js';
import { MAX_PDU, MESSAGE_STATE, NETWORK_ERROR, PAYLOAD, RECEIPTED_ID, bump, int, pick } from './shared.js';
import type { MoKeys } from './side-traffic.js';
import { emptyCarrierStats, type CarrierStats, type Skippable } from './summary.js';

/** A carrier that means harm: see the comment at the top. */
export class HostileCarrier {
  readonly stats: CarrierStats = emptyCarrierStats();
  private readonly server: SmppServer;
  private readonly bound = new Set<Session>();
  private readonly ids: string[] = [];
  private counter = 0x1000;
  private outstanding = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly rand: () => number,
    private readonly moKeys: MoKeys,
    private readonly skip: ReadonlySet<Skippable>,
  ) {
    this.server = new SmppServer({
      host: '127.0.0.1',
      port: 0,
      session: { window: 20, enquireLinkMs: 0, bindTimeoutMs: 0, inboundWindow: 1000 },
      handlers: {
        bind: () => {
          this.stats.binds++;
          return { system_id: 'HOSTILE' };
        },
        request: (pdu, session) => this.onRequest(pdu, session),
        state: (session, state) => {
          if (state.startsWith('bound_')) this.bound.add(session);
          else this.bound.delete(session);
        },
        close: (session) => this.bound.delete(session),
      },
    });
  }

  async start(): Promise<number> {
    return (await this.server.listen()).port;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.server.sessions) s.destroy('fuzz over');
    await this.server.close(1_000);
  }

  get up(): boolean {
    return this.bound.size > 0;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onRequest(pdu: Pdu, session: Session): ResponseInit {
    const rand = this.rand;
    switch (pdu.command) {
      case 'submit_sm': {
        this.stats.submits++;
        const r = rand();
        let status = 0;
        if (r < 0.05) status = Status.ESME_RTHROTTLED;
        else if (r < 0.08) status = Status.ESME_RMSGQFUL;
        else if (r < 0.1) status = Status.ESME_RSYSERR;
        else if (r < 0.13) status = pick(rand, [Status.ESME_RSUBMITFAIL, Status.ESME_RINVDSTADR, 0x400, 0xffffffff]);
        bump(this.stats.submitAnswers, statusName(status));
        if (status !== 0) return { command_status: status };
        const id = this.newId();
        if (rand() < 0.9) {
          const receipt = this.receipt(id);
          // Now and then the receipt beats the submit_sm_resp (it is written first).
          if (rand() < 0.15) this.send(session, receipt, 'receipt');
          else this.later(int(rand, 30), () => this.send(session, receipt, 'receipt'));
        }
        return { message_id: id };
      }
      case 'query_sm':
        if (rand() < 0.5) throw new SmppError(Status.ESME_RQUERYFAIL);
        return { message_id: pdu.message_id, final_date: '', message_state: int(rand, 9), error_code: int(rand, 256) };
      case 'cancel_sm':
        this.stats.cancels++;
        if (rand() < 0.5) throw new SmppError(Status.ESME_RCANCELFAIL);
        return {};
      case 'replace_sm':
        this.stats.replaces++;
        if (rand() < 0.5) throw new SmppError(Status.ESME_RREPLACEFAIL);
        return {};
      default:
        throw new SmppError(Status.ESME_RINVCMDID);
    }
  }

  /** Message ids a carrier should not send but some do. */
  private newId(): string {
    const rand = this.rand;
    const n = this.counter++;
    const r = rand();
    let id: string;
    if (r < 0.5) id = n.toString(16);
    else if (r < 0.62) id = String(n);
    else if (r < 0.7) id = `000${n.toString(16).toUpperCase()}`;
    else if (r < 0.78 && this.ids.length > 0)
      id = pick(rand, this.ids); // reused
    else if (r < 0.86) id = hostileText(rand, 64);
    else if (r < 0.9) id = '';
    else if (r < 0.95) id = n.toString(16).padStart(64, '0');
    else id = ` ${n} `;
    if (this.ids.length < 256) this.ids.push(id);
    else this.ids[n % 256] = id;
    return id;
  }

  /** A receipt for `id`, written the way some carrier would, or mangled. */
  private receipt(id: string): PduInput<'deliver_sm'> {
    const rand = this.rand;
    const r = rand();
    let shown = id;
    if (r < 0.1) shown = id.toUpperCase();
    else if (r < 0.2) shown = `00${id}`;
    else if (r < 0.25 && /^[0-9]+$/.test(id) && id.length < 15) shown = Number(id).toString(16);
    else if (r < 0.3 && /^[0-9a-f]+$/i.test(id) && id.length < 13) shown = String(parseInt(id, 16));
    else if (r < 0.35) shown = hostileText(rand, 64);
    const stat =
      rand() < 0.8
        ? pick(rand, ['DELIVRD', 'UNDELIV', 'REJECTD', 'EXPIRED', 'DELETED', 'ACCEPTD', 'UNKNOWN', 'ENROUTE', 'delivrd'])
        : hostileText(rand, 12).replace(/\s/g, '_');
    const digits = this.skip.has('long-err') ? 1 + int(rand, 15) : 1 + int(rand, 40);
    let err = rand() < 0.8 ? pick(rand, ['000', '001', '0', '999']) : rand() < 0.5 ? '9'.repeat(digits) : hostileText(rand, 20).replace(/\s/g, '_');
    if (this.skip.has('long-err') && /^[0-9]{16,}$/.test(err)) err = err.slice(0, 15);
    const text =
      rand() < 0.2
        ? hostileText(rand, 40)
        : `id:${shown.replace(/\s/g, '')} sub:001 dlvrd:001 submit date:${hostileText(rand, 12)} done date:2501011200 stat:${stat} err:${err} text:${hostileText(rand, 20)}`;
    const tlvs: Tlv[] = [];
    const t = rand();
    if (t < 0.5) tlvs.push({ tag: RECEIPTED_ID, value: Buffer.from(rand() < 0.8 ? `${shown}\0` : shown, 'latin1') });
    if (rand() < 0.4) tlvs.push({ tag: MESSAGE_STATE, value: Buffer.from([rand() < 0.8 ? 1 + int(rand, 8) : int(rand, 256)]) });
    if (rand() < 0.2) tlvs.push({ tag: NETWORK_ERROR, value: randomBytes(rand, 3, 3) });
    const sm = Buffer.from(text, 'latin1');
    return {
      command: 'deliver_sm',
      sequence_number: 1,
      source_addr_ton: ton(rand),
      source_addr_npi: ton(rand),
      source_addr: hostileAddress(rand, 20),
      dest_addr_ton: ton(rand),
      dest_addr_npi: ton(rand),
      destination_addr: hostileAddress(rand, 20),
      esm_class: rand() < 0.9 ? 0x04 : pick(rand, [0x44, 0x24, 0x3c, 0x84]),
      data_coding: rand() < 0.9 ? 0 : int(rand, 256),
      short_message: sm.length > 254 ? sm.subarray(0, 254) : sm,
      ...(tlvs.length > 0 ? { tlvs } : {}),
    };
  }

  /** One request of the carrier's own: an MO or a receipt for nothing we know, with hostile fields. */
  push(): void {
    const session = [...this.bound][0];
    if (session === undefined || this.outstanding >= 20) return;
    const rand = this.rand;
    const r = rand();
    let pdu: PduInput<'deliver_sm'> | PduInput<'data_sm'>;
    if (r < 0.55) {
      // An MO: keyword or not, any coding, with a UDH now and then, text or payload.
      const esm = rand() < 0.8 ? pick(rand, [0, 0, 0x40]) : int(rand, 256) & ~0x3c;
      const dc = dataCoding(rand);
      const udh = (esm & 0x40) !== 0;
      let sm = Buffer.concat([Buffer.from(pick(rand, MO_KEYWORDS), 'latin1'), hostileShortMessage(rand, false)]);
      if (dc === 8 && rand() < 0.5) sm = Buffer.from(encodeText(`${pick(rand, MO_KEYWORDS)}\u00e9\u4e2d${hostileText(rand, 20)}`).short_message);
      if (udh) sm = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, int(rand, 256), 2, 1]), sm]);
      const tlvs = hostileTlvs(rand, 'maybe');
      const payloadOnly = tlvs?.some((t) => t.tag === PAYLOAD) && rand() < 0.7;
      pdu = {
        command: 'deliver_sm',
        sequence_number: 1,
        service_type: hostileText(rand, 5),
        source_addr_ton: ton(rand),
        source_addr_npi: ton(rand),
        source_addr: hostileAddress(rand, 20, ['4917', '3']),
        dest_addr_ton: ton(rand),
        dest_addr_npi: ton(rand),
        destination_addr: rand() < 0.7 ? pick(rand, MO_SHORT_CODES) : hostileAddress(rand, 20),
        esm_class: esm,
        protocol_id: int(rand, 256),
        priority_flag: int(rand, 4),
        registered_delivery: int(rand, 256),
        data_coding: dc,
        short_message: payloadOnly ? Buffer.alloc(0) : sm.subarray(0, 254),
        ...(tlvs ? { tlvs } : {}),
      };
    } else if (r < 0.8) {
      // data_sm: an MO (payload, addresses up to 64 characters) or a receipt.
      const receipt = rand() < 0.3;
      pdu = {
        command: 'data_sm',
        sequence_number: 1,
        service_type: hostileText(rand, 5),
        source_addr_ton: ton(rand),
        source_addr_npi: ton(rand),
        source_addr: rand() < 0.8 ? hostileAddress(rand, 20, ['4917']) : hostileText(rand, 64),
        dest_addr_ton: ton(rand),
        dest_addr_npi: ton(rand),
        destination_addr: rand() < 0.7 ? pick(rand, MO_SHORT_CODES) : hostileText(rand, 64),
        esm_class: receipt ? 0x04 : rand() < 0.8 ? 0 : int(rand, 256),
        registered_delivery: int(rand, 256),
        data_coding: dataCoding(rand),
        ...(() => {
          const tlvs = receipt ? this.receipt(pick(rand, this.ids.length > 0 ? this.ids : ['1'])).tlvs : hostileTlvs(rand, 'always');
          return tlvs ? { tlvs } : {};
        })(),
      };
      if (rand() < 0.03 && !this.skip.has('oversize-mo')) {
        // At the size limit: the gateway passes a data_sm MO on as a deliver_sm, 7 bytes longer.
        const routed: PduInput<'data_sm'> = { ...pdu, esm_class: 0, destination_addr: '55555', source_addr: hostileAddress(rand, 20) };
        pdu = filledTo(rand, routed, MAX_PDU - int(rand, 8));
      }
    } else {
      // A receipt for an id the carrier gave (or never gave).
      pdu = this.receipt(this.ids.length > 0 && rand() < 0.8 ? pick(rand, this.ids) : hostileText(rand, 30));
    }
    this.send(session, pdu, 'request');
  }

  private send(session: Session, pdu: PduInput<'deliver_sm'> | PduInput<'data_sm'>, what: 'receipt' | 'request'): void {
    if (!session.isBound) return;
    // Whatever the gateway does not take for a receipt (esm_class type bits other than 0x04) is an MO to it.
    this.moKeys.add(pdu);
    if (what === 'receipt') this.stats.receiptsSent++;
    else this.stats.requestsSent++;
    this.outstanding++;
    const { sequence_number: _s, ...body } = pdu;
    void _s;
    (session.request(body as Omit<PduInput<'deliver_sm'>, 'sequence_number'>) as Promise<Pdu>).then(
      (resp) => {
        this.outstanding--;
        bump(this.stats.answers, statusName(resp.command_status));
      },
      (err: unknown) => {
        this.outstanding--;
        bump(this.stats.answers, err instanceof SmppError ? `nack ${statusName(err.status)}` : (err as Error).name);
      },
    );
  }
}
