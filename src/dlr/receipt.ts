// Delivery receipts: read from a carrier's deliver_sm (TLVs first, then the text of SMPP 3.4
// Appendix B), and written for an account with the gateway's own id.
import { TLVS, MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import { MessageState, type MessageStateValue } from '../smpp/message-state.js';
import { formatReceiptDate } from '../smpp/time.js';
import type { PduOf, Tlv } from '../smpp/pdu.js';
import { type DefaultAlphabet, encodeText } from '../text/codings.js';
import { packSeptets } from '../text/gsm.js';

const STAT_OF_STATE: Record<number, string> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};
const STATE_OF_STAT: Record<string, MessageStateValue> = {
  ENROUTE: 1,
  DELIVRD: 2,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  UNDELIVERABLE: 5,
  ACCEPTD: 6,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTD: 8,
  REJECTED: 8,
};

export function statOf(state: number): string {
  return STAT_OF_STATE[state] ?? 'UNKNOWN';
}

export interface Receipt {
  /** The carrier's id for the message, as written in the receipt. */
  id: string;
  state: MessageStateValue;
  /** The err: field, or the network_error_code TLV in hex; '000' when neither. */
  err: string;
  submitDate?: string;
  doneDate?: string;
}

const TAG = {
  receipted_message_id: TLVS.get('receipted_message_id')!.tag,
  message_state: TLVS.get('message_state')!.tag,
  network_error_code: TLVS.get('network_error_code')!.tag,
};

/** esm_class message type bits (2–5): 0x04 is an SMSC delivery receipt. */
export function isReceipt(esmClass: number): boolean {
  return (esmClass & 0x3c) === 0x04;
}

function tlv(tlvs: Tlv[] | undefined, tag: number): Buffer | undefined {
  if (tlvs === undefined) return undefined;
  for (const t of tlvs) if (t.tag === tag) return t.value;
  return undefined;
}

function field(text: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text);
  return m ? m[1] : undefined;
}

/** Reads a receipt; undefined when the PDU is not one or carries no id. */
export function parseReceipt(pdu: PduOf<'deliver_sm'> | PduOf<'data_sm'>): Receipt | undefined {
  if (!isReceipt(pdu.esm_class)) return undefined;
  const text = 'short_message' in pdu ? pdu.short_message.toString('latin1') : '';
  const payload = tlv(pdu.tlvs, MESSAGE_PAYLOAD_TAG);
  const body = text || (payload ? payload.toString('latin1') : '');
  const idTlv = tlv(pdu.tlvs, TAG.receipted_message_id);
  const id = idTlv ? idTlv.toString('latin1', 0, idTlv.length > 0 && idTlv[idTlv.length - 1] === 0 ? idTlv.length - 1 : idTlv.length) : field(body, 'id');
  if (!id) return undefined;
  const stateTlv = tlv(pdu.tlvs, TAG.message_state);
  let state: MessageStateValue | undefined =
    stateTlv && stateTlv.length === 1 && stateTlv[0]! >= 1 && stateTlv[0]! <= 8 ? (stateTlv[0] as MessageStateValue) : undefined;
  // A stat word we do not know (BUFFRED, SENT, …) is an intermediate state, not a final one: the
  // final receipt that follows must still apply.
  if (state === undefined) state = STATE_OF_STAT[(field(body, 'stat') ?? '').toUpperCase()] ?? MessageState.ENROUTE;
  const netErr = tlv(pdu.tlvs, TAG.network_error_code);
  const err = field(body, 'err') ?? (netErr ? netErr.toString('hex') : '000');
  const submitDate = /submit date:(\d{10,12})/i.exec(body)?.[1];
  const doneDate = /done date:(\d{10,12})/i.exec(body)?.[1];
  return { id, state, err, ...(submitDate ? { submitDate } : {}), ...(doneDate ? { doneDate } : {}) };
}

export interface ReceiptFor {
  /** The id the account knows the message by. */
  id: string;
  state: number;
  err: string;
  submittedAt: number;
  doneAt: number;
  /** The first characters of the message, as the receipt's text: field (up to 20). */
  text: string;
}

/**
 * The receipt text of SMPP 3.4 Appendix B, plus the receipted_message_id and message_state TLVs,
 * so an account reading either finds its own id. The receipt is data_coding 0, written as the
 * account reads it (`dc0`); its text: field carries what that alphabet can, else nothing.
 */
export function receiptBody(r: ReceiptFor, dc0: DefaultAlphabet = 'gsm'): { short_message: Buffer; tlvs: Tlv[] } {
  const delivered = r.state === MessageState.DELIVERED ? '001' : '000';
  const head = `id:${r.id} sub:001 dlvrd:${delivered} submit date:${formatReceiptDate(r.submittedAt)} done date:${formatReceiptDate(r.doneAt)} stat:${statOf(r.state)} err:${r.err.slice(0, 3).padStart(3, '0')} text:`;
  // The head is letters, digits, spaces and colons: the same octets in GSM (unpacked), Latin-1 and ASCII.
  const text = r.text === '' ? undefined : encodeText([...r.text].slice(0, 20).join(''), dc0 === 'gsm-packed' ? 'gsm' : dc0);
  const body = text ? Buffer.concat([Buffer.from(head, 'latin1'), text]) : Buffer.from(head, 'latin1');
  const idBytes = Buffer.alloc(r.id.length + 1);
  idBytes.write(r.id, 'latin1');
  return {
    short_message: dc0 === 'gsm-packed' ? packSeptets(body) : body,
    tlvs: [
      { tag: TAG.receipted_message_id, value: idBytes },
      { tag: TAG.message_state, value: Buffer.from([r.state]) },
    ],
  };
}
