// An outbox record as the deliver_sm an SMPP receiver is sent. A receipt's text and TLVs are
// rendered here, with the message's public id in the account's format (`publicId`), so the stored
// record names the ledger row, never a rendered id.
import { receiptBody } from '../dlr/receipt.js';
import type { PduInput } from '../smpp/pdu.js';
import type { OutboxRecord } from '../store/outbox.js';
import type { DefaultAlphabet } from '../text/codings.js';

export type DeliverSm = Omit<PduInput<'deliver_sm'>, 'sequence_number'>;

/**
 * The deliver_sm for `r`; `publicId` renders a ledger row as the account sees it, and a receipt is
 * written in the account's default alphabet (`dc0`).
 */
export function renderDeliverSm(r: OutboxRecord, publicId: (row: number) => string, dc0: DefaultAlphabet = 'gsm'): DeliverSm {
  let shortMessage = r.body;
  let tlvs = r.tlvs;
  const rc = r.receipt;
  if (rc !== null && r.messageId !== null) {
    const body = receiptBody({ id: publicId(r.messageId), state: rc.state, err: rc.err, submittedAt: rc.submittedAt, doneAt: rc.doneAt, text: rc.text }, dc0);
    shortMessage = body.short_message;
    tlvs = body.tlvs;
  }
  // One literal shape for every record (the encoder stays monomorphic).
  return {
    command: 'deliver_sm',
    service_type: r.serviceType,
    source_addr_ton: r.source.ton,
    source_addr_npi: r.source.npi,
    source_addr: r.source.addr,
    dest_addr_ton: r.destination.ton,
    dest_addr_npi: r.destination.npi,
    destination_addr: r.destination.addr,
    esm_class: r.esmClass,
    protocol_id: r.protocolId,
    priority_flag: r.priorityFlag,
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: r.registeredDelivery,
    replace_if_present_flag: 0,
    data_coding: r.dataCoding,
    sm_default_msg_id: 0,
    short_message: shortMessage,
    tlvs,
  };
}
