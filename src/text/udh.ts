// The user data header (3GPP TS 23.040 §9.2.3.24) and the three ways SMPP says "part n of m": UDH
// IE 0x00 (8-bit reference) or 0x08 (16-bit), with esm_class bit 0x40; the SAR TLVs; and a whole
// text in one message_payload. Also the national language IEs (0x24 single shift, 0x25 locking).
import type { Tlv } from '../smpp/pdu.js';
import type { Shift } from './gsm.js';

export const UDHI = 0x40;
export const IE_CONCAT_8 = 0x00;
export const IE_CONCAT_16 = 0x08;
export const IE_SINGLE_SHIFT = 0x24;
export const IE_LOCKING_SHIFT = 0x25;
export const SAR_MSG_REF_NUM = 0x020c;
export const SAR_TOTAL_SEGMENTS = 0x020e;
export const SAR_SEGMENT_SEQNUM = 0x020f;

export interface InfoElement {
  id: number;
  data: Buffer;
}

/** Part `seq` (1-based) of a message of `total` parts, under reference `ref`. */
export interface Concat {
  ref: number;
  total: number;
  seq: number;
  /** How the reference was carried: 8 or 16 bits in a UDH, or the SAR TLVs. */
  form: 'udh' | 'udh16' | 'sar';
}

/** A body split into its header's elements and the text after it. */
export interface SplitBody {
  elements: InfoElement[];
  /** Octets of the header, its length octet included (0: none). */
  headerOctets: number;
  text: Buffer;
}

/**
 * Reads the UDH at the start of `body` (present when esm_class has UDHI); undefined when it does
 * not fit the body or its elements overrun it.
 */
export function readUdh(body: Buffer): SplitBody | undefined {
  if (body.length === 0) return undefined;
  const udhl = body[0]!;
  if (udhl + 1 > body.length) return undefined;
  const elements: InfoElement[] = [];
  let i = 1;
  while (i < udhl + 1) {
    if (i + 2 > udhl + 1) return undefined;
    const id = body[i]!;
    const len = body[i + 1]!;
    if (i + 2 + len > udhl + 1) return undefined;
    elements.push({ id, data: body.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return { elements, headerOctets: udhl + 1, text: body.subarray(udhl + 1) };
}

/** A UDH of these elements, its length octet first (empty for none). */
export function writeUdh(elements: readonly InfoElement[]): Buffer {
  if (elements.length === 0) return Buffer.alloc(0);
  const len = elements.reduce((n, e) => n + 2 + e.data.length, 0);
  const out = Buffer.alloc(1 + len);
  out[0] = len;
  let i = 1;
  for (const e of elements) {
    out[i] = e.id;
    out[i + 1] = e.data.length;
    e.data.copy(out, i + 2);
    i += 2 + e.data.length;
  }
  return out;
}

/** The concatenation element of a UDH; undefined when there is none or it is malformed (seq 0, seq > total). */
export function concatOfUdh(elements: readonly InfoElement[]): Concat | undefined {
  for (const e of elements) {
    if (e.id === IE_CONCAT_8 && e.data.length === 3) return valid({ ref: e.data[0]!, total: e.data[1]!, seq: e.data[2]!, form: 'udh' });
    if (e.id === IE_CONCAT_16 && e.data.length === 4) return valid({ ref: e.data.readUInt16BE(0), total: e.data[2]!, seq: e.data[3]!, form: 'udh16' });
  }
  return undefined;
}

/** The SAR TLVs' part numbering; undefined when the three are not all there and well formed. */
export function concatOfSar(tlvs: readonly Tlv[] | undefined): Concat | undefined {
  if (!tlvs) return undefined;
  let ref: number | undefined;
  let total: number | undefined;
  let seq: number | undefined;
  for (const t of tlvs) {
    if (t.tag === SAR_MSG_REF_NUM && t.value.length === 2) ref = t.value.readUInt16BE(0);
    else if (t.tag === SAR_TOTAL_SEGMENTS && t.value.length === 1) total = t.value[0];
    else if (t.tag === SAR_SEGMENT_SEQNUM && t.value.length === 1) seq = t.value[0];
  }
  if (ref === undefined || total === undefined || seq === undefined) return undefined;
  return valid({ ref, total, seq, form: 'sar' });
}

/** Does any SAR TLV appear (well formed or not)? */
export function hasSar(tlvs: readonly Tlv[] | undefined): boolean {
  return tlvs?.some((t) => t.tag === SAR_MSG_REF_NUM || t.tag === SAR_TOTAL_SEGMENTS || t.tag === SAR_SEGMENT_SEQNUM) ?? false;
}

function valid(c: Concat): Concat | undefined {
  return c.total >= 1 && c.seq >= 1 && c.seq <= c.total ? c : undefined;
}

/** The UDH element that numbers a part (8- or 16-bit reference). */
export function concatElement(c: { ref: number; total: number; seq: number }, refBits: 8 | 16): InfoElement {
  if (refBits === 8) return { id: IE_CONCAT_8, data: Buffer.from([c.ref & 0xff, c.total, c.seq]) };
  return { id: IE_CONCAT_16, data: Buffer.from([(c.ref >> 8) & 0xff, c.ref & 0xff, c.total, c.seq]) };
}

/** The SAR TLVs that number a part. */
export function sarTlvs(c: { ref: number; total: number; seq: number }): Tlv[] {
  const ref = Buffer.alloc(2);
  ref.writeUInt16BE(c.ref & 0xffff);
  return [
    { tag: SAR_MSG_REF_NUM, value: ref },
    { tag: SAR_TOTAL_SEGMENTS, value: Buffer.from([c.total]) },
    { tag: SAR_SEGMENT_SEQNUM, value: Buffer.from([c.seq]) },
  ];
}

/** The national language tables a UDH names. */
export function shiftOf(elements: readonly InfoElement[]): Shift | undefined {
  let shift: Shift | undefined;
  for (const e of elements) {
    if (e.data.length !== 1) continue;
    if (e.id === IE_SINGLE_SHIFT) shift = { ...shift, single: e.data[0]! };
    else if (e.id === IE_LOCKING_SHIFT) shift = { ...shift, locking: e.data[0]! };
  }
  return shift;
}

/** The UDH elements that name `shift`'s tables. */
export function shiftElements(shift: Shift | undefined): InfoElement[] {
  const out: InfoElement[] = [];
  if (shift?.single !== undefined) out.push({ id: IE_SINGLE_SHIFT, data: Buffer.from([shift.single]) });
  if (shift?.locking !== undefined) out.push({ id: IE_LOCKING_SHIFT, data: Buffer.from([shift.locking]) });
  return out;
}

/** Elements every part of a split message repeats: all but concatenation (e.g. application ports 0x05). */
export function carriedElements(elements: readonly InfoElement[]): InfoElement[] {
  return elements.filter((e) => e.id !== IE_CONCAT_8 && e.id !== IE_CONCAT_16);
}
