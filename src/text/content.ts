// What a short message carries, read once for everyone who needs it (keywords, receipt text, the
// parts of a long message): its header elements, its part numbering (UDH or SAR), its alphabet and
// its decoded text.
import { MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import type { Tlv } from '../smpp/pdu.js';
import { type Alphabet, type DefaultAlphabet, type Ucs2Fault, alphabetOf, decodeText, isText, ucs2Fault } from './codings.js';
import { type Shift, fillBitsAfter } from './gsm.js';
import { type Concat, type InfoElement, UDHI, concatOfSar, concatOfUdh, hasSar, readUdh, shiftOf } from './udh.js';

/** The fields of a submit_sm, deliver_sm or data_sm that carry content. */
export interface ContentFields {
  esmClass: number;
  dataCoding: number;
  /** short_message (may be empty when message_payload carries the body). */
  shortMessage: Buffer;
  tlvs?: readonly Tlv[] | undefined;
}

/** Why content cannot be read as the sender meant it. */
export type ContentFault = 'bad_udh' | 'udh_and_sar' | Ucs2Fault;

export interface Content {
  alphabet: Alphabet;
  /** The body: short_message, or message_payload's value. */
  body: Buffer;
  /** The UDH's elements (none without UDHI). */
  elements: InfoElement[];
  /** Octets of the UDH, its length octet included (0: none). */
  headerOctets: number;
  /** The body after the UDH. */
  data: Buffer;
  /** Part n of m, from the UDH or the SAR TLVs. */
  concat: Concat | undefined;
  shift: Shift | undefined;
  /** The text, for a text alphabet that reads cleanly; undefined for binary and the rest. */
  text: string | undefined;
  fault: ContentFault | undefined;
}

const EMPTY = Buffer.alloc(0);

/** The message_payload TLV's value, if any. */
export function payloadOf(tlvs: readonly Tlv[] | undefined): Buffer | undefined {
  if (!tlvs) return undefined;
  for (const t of tlvs) if (t.tag === MESSAGE_PAYLOAD_TAG) return t.value;
  return undefined;
}

/**
 * Reads content; `dc0` is what data_coding 0 means where it came from. `maxChars`: decode no more
 * of the text than needed for that many characters (`text` may then hold a few more).
 */
export function readContent(f: ContentFields, dc0: DefaultAlphabet, maxChars?: number): Content {
  const payload = f.shortMessage.length === 0 ? payloadOf(f.tlvs) : undefined;
  const body = payload ?? f.shortMessage;
  const alphabet = alphabetOf(f.dataCoding, dc0);
  let elements: InfoElement[] = [];
  let headerOctets = 0;
  let data = body;
  let fault: ContentFault | undefined;
  if ((f.esmClass & UDHI) !== 0) {
    const udh = readUdh(body);
    if (udh) ({ elements, headerOctets, text: data } = udh);
    else {
      fault = 'bad_udh';
      data = EMPTY;
    }
  }
  const fromUdh = concatOfUdh(elements);
  const sar = concatOfSar(f.tlvs);
  if (fromUdh && hasSar(f.tlvs)) fault ??= 'udh_and_sar';
  const concat = fromUdh ?? sar;
  const shift = shiftOf(elements);
  let text: string | undefined;
  if (isText(alphabet) && fault === undefined) {
    if (alphabet === 'ucs2') fault = ucs2Fault(data);
    const cut = maxChars === undefined ? data : data.subarray(0, octetsFor(alphabet, maxChars) & (alphabet === 'ucs2' ? ~1 : ~0));
    if (fault === undefined) text = decodeText(cut, alphabet, shift, fillBitsAfter(headerOctets));
  }
  return { alphabet, body, elements, headerOctets, data, concat, shift, text, fault };
}

/**
 * The text of a message for reading (keywords, receipts): empty when it carries none. With
 * `maxChars`, only that many characters are decoded (a receipt needs 20 of up to 65,535 octets).
 */
export function textOf(f: ContentFields, dc0: DefaultAlphabet, maxChars?: number): string {
  if (maxChars === undefined) return readContent(f, dc0).text ?? '';
  const c = readContent(f, dc0, maxChars);
  return c.text === undefined ? '' : [...c.text].slice(0, maxChars).join('');
}

/** Octets that surely hold `chars` characters of an alphabet (ESC pairs, surrogate pairs, packing). */
function octetsFor(alphabet: Alphabet, chars: number): number {
  switch (alphabet) {
    case 'gsm':
      return 2 * chars;
    case 'gsm-packed':
      return Math.ceil((2 * chars * 7) / 8) + 1;
    case 'ucs2':
      return 4 * chars;
    default:
      return chars;
  }
}
