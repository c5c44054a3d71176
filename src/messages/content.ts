// What intake checks and changes in a message's content before it is stored: UCS2 that is not
// UTF-16BE, a header that does not parse, more parts than the account may send; typographic
// characters folded to GSM for an account that asks; and which part of which message a submit is
// when the sender split the text itself. Cheap for the common case: a short text without a header
// is looked at, not decoded.
import type { Account } from '../store/accounts.js';
import { type Alphabet, type DefaultAlphabet, alphabetOf, canCarry, decodeText, encodeText, isText, ucs2Fault, ucs2Text } from '../text/codings.js';
import { foldToGsm } from '../text/fold.js';
import { segment, segmentOctets } from '../text/segments.js';
import { type Concat, UDHI, concatOfSar, concatOfUdh, hasSar, readUdh } from '../text/udh.js';
import { Refused } from './refused.js';

/** One SMS carries 140 octets of user data; a body of at most this many needs no counting. */
const SMS_OCTETS = 140;

export interface ContentInput {
  body: Buffer;
  dataCoding: number;
  esmClass: number;
  tlvs?: readonly { tag: number; value: Buffer }[] | undefined;
}

export interface ContentVerdict {
  /** Part n of m of a message the sender split itself. */
  concat: Concat | undefined;
  /** Parts the message takes at a carrier (a part the sender split is one). */
  parts: number;
  /** Set when folding changed the text: the new body, in data_coding 0 as the account means it. */
  folded: Buffer | undefined;
}

type ContentAccount = Pick<Account, 'dc0' | 'fold' | 'maxParts'>;

/** Checks a message's content; throws Refused. */
export function inspectContent(m: ContentInput, account: ContentAccount): ContentVerdict {
  let data = m.body;
  let concat: Concat | undefined;
  if ((m.esmClass & UDHI) !== 0) {
    const udh = readUdh(m.body);
    if (!udh) throw new Refused('invalid_header', 'the user data header does not fit the message');
    data = udh.text;
    concat = concatOfUdh(udh.elements);
    if (concat && hasSar(m.tlvs)) throw new Refused('invalid_header', 'a user data header and SAR TLVs in one message');
  }
  if (m.tlvs && m.tlvs.length > 0) concat ??= concatOfSar(m.tlvs);
  const alphabet = alphabetOf(m.dataCoding, account.dc0);
  if (alphabet === 'ucs2') {
    const fault = ucs2Fault(data);
    if (fault === 'odd_length') throw new Refused('invalid_coding', 'UCS2 text of an odd number of octets');
    if (fault === 'little_endian') throw new Refused('invalid_coding', 'UCS2 text is little-endian; SMPP carries UTF-16BE');
  }
  if (concat) {
    if (concat.total > account.maxParts) throw new Refused('too_many_parts', `${concat.total} parts; the account may send ${account.maxParts}`);
    return { concat, parts: 1, folded: undefined };
  }
  let folded: Buffer | undefined;
  if (account.fold && alphabet === 'ucs2' && (m.esmClass & UDHI) === 0) folded = fold(ucs2Text(data), account.dc0);
  const parts = folded ? partsOf(folded, account.dc0) : data.length <= SMS_OCTETS && alphabet !== 'gsm' ? 1 : partsOf(data, alphabet);
  if (parts > account.maxParts) throw new Refused('too_many_parts', `the text takes ${parts} parts; the account may send ${account.maxParts}`);
  return { concat: undefined, parts, folded };
}

/** The text folded to GSM and written as the account means data_coding 0, if that works. */
function fold(text: string, dc0: DefaultAlphabet): Buffer | undefined {
  const gsm = foldToGsm(text);
  return gsm === undefined ? undefined : encodeText(gsm, dc0);
}

/** Parts a whole text takes (8-bit references), from its bytes in `alphabet`. */
function partsOf(data: Buffer, alphabet: Alphabet): number {
  // Unpacked GSM: a septet an octet, so 160 fit one part.
  if (alphabet === 'gsm' && data.length <= 160) return 1;
  if (!isText(alphabet)) return segmentOctets(data).length;
  const text = decodeText(data, alphabet);
  // ASCII with octets above 0x7F: counted as the octets they are.
  return canCarry(text, alphabet) ? segment(text, { alphabet }).texts.length : segmentOctets(data).length;
}
