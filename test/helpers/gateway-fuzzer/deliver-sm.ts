// What the gateway sends a fuzzing ESME: every deliver_sm (receipt or MO) is checked and answered,
// mostly OK, sometimes with an error, a generic_nack or not at all; enquire_link and unbind get
// their response; any other request is an anomaly.
import type net from 'node:net';
import { encode } from '../../../src/smpp/codec.js';
import { Status, statusName } from '../../../src/smpp/defs.js';
import type { Pdu, PduOf } from '../../../src/smpp/pdu.js';
import type { Ledger } from './ledger.js';
import { answerLinkRequest, bump, pick, receiptedId } from './shared.js';
import type { MoKeys } from './side-traffic.js';
import type { GatewayFuzzSummary, RecordAnomaly } from './summary.js';

export class DeliverSmCheck {
  constructor(
    private readonly s: GatewayFuzzSummary,
    private readonly ledger: Ledger,
    private readonly moKeys: MoKeys,
    private readonly anomaly: RecordAnomaly,
  ) {}

  /** A receipt must carry an id the gateway gave; an MO must be one a carrier sent, unchanged. */
  check(pdu: PduOf<'deliver_sm'>, raw: Buffer, conn: number): void {
    const s = this.s;
    if ((pdu.esm_class & 0x3c) === 0x04) {
      s.deliverSm.receipts++;
      const id = receiptedId(pdu) ?? '';
      const text = pdu.short_message.toString('latin1');
      if (!/^[0-9a-f]+$/.test(id) || !text.startsWith(`id:${id} `))
        this.anomaly('bad-receipt', conn, `receipt id ${JSON.stringify(id)}, text ${JSON.stringify(text.slice(0, 80))}`, [raw]);
      else if (this.ledger.receipt(this.ledger.rowOf(id))) s.deliverSm.receiptsMatched++;
    } else {
      s.deliverSm.mos++;
      if (this.moKeys.has(pdu)) s.deliverSm.mosMatched++;
      else
        this.anomaly('mo-changed', conn, `an MO no carrier sent (addresses ${JSON.stringify(pdu.source_addr)} → ${JSON.stringify(pdu.destination_addr)})`, [
          raw,
        ]);
    }
  }

  /** Answers a request from the gateway on fuzzing connection `conn`; `rand` decides the answers to deliver_sm. */
  answer(socket: net.Socket, pdu: Pdu, rand: () => number, conn: number, raw: Buffer): void {
    if (answerLinkRequest(socket, pdu)) return;
    if (pdu.command !== 'deliver_sm') {
      this.anomaly('unexpected-request', conn, `the gateway sent ${pdu.command} to an ESME`, [raw]);
      return;
    }
    this.check(pdu, raw, conn);
    const answered = this.s.deliverSm.answered;
    const r = rand();
    if (r < 0.002) {
      bump(answered, 'none');
      return;
    }
    if (r < 0.007) {
      bump(answered, 'generic_nack');
      socket.write(encode({ command: 'generic_nack', sequence_number: pdu.sequence_number, command_status: Status.ESME_RSYSERR }));
      return;
    }
    const status = r < 0.03 ? pick(rand, [Status.ESME_RSYSERR, Status.ESME_RMSGQFUL, Status.ESME_RTHROTTLED, Status.ESME_RX_T_APPN, 0xdeadbeef]) : 0;
    bump(answered, statusName(status));
    socket.write(encode({ command: 'deliver_sm_resp', sequence_number: pdu.sequence_number, command_status: status, message_id: '' }));
  }
}
