// Text moved between two sides that mean different things by data_coding 0 (an account that
// writes Latin-1, a carrier that reads GSM): decoded with one meaning, written with the other,
// the UDH kept. What the other side's default alphabet cannot carry goes as UCS2 when that still
// fits, else each such character becomes '?', and the caller counts them.
import type { DefaultAlphabet } from './codings.js';
import { canCarry, encodeText, ucs2Bytes } from './codings.js';
import { type ContentFields, readContent } from './content.js';
import { fillBitsAfter } from './gsm.js';
import { IE_LOCKING_SHIFT, IE_SINGLE_SHIFT, type InfoElement, writeUdh } from './udh.js';

export interface Recoded {
  dataCoding: number;
  /** The new body (UDH included), for short_message or message_payload as before. */
  body: Buffer;
  /** Characters written as '?'. */
  substituted: number;
}

/**
 * The body of `f` for a side whose data_coding 0 means `to`, from one where it means `from`;
 * undefined when nothing changes (another data_coding, the same meaning, binary, or a body that
 * does not read as text). `maxOctets`: the most the new body may take (UCS2 is used only within it).
 */
export function recode(f: ContentFields, from: DefaultAlphabet, to: DefaultAlphabet, maxOctets: number): Recoded | undefined {
  if (f.dataCoding !== 0 || from === to) return undefined;
  const c = readContent(f, from);
  if (c.text === undefined) return undefined;
  const toGsm = to === 'gsm' || to === 'gsm-packed';
  // National shift elements mean something only to GSM.
  const elements = toGsm ? c.elements : c.elements.filter((e) => e.id !== IE_SINGLE_SHIFT && e.id !== IE_LOCKING_SHIFT);
  const header = headerOf(c.headerOctets, elements);
  const shift = toGsm ? c.shift : undefined;
  if (canCarry(c.text, to, shift)) {
    return { dataCoding: 0, body: Buffer.concat([header, encodeText(c.text, to, shift, fillBitsAfter(header.length))!]), substituted: 0 };
  }
  const plain = headerOf(
    c.headerOctets,
    c.elements.filter((e) => e.id !== IE_SINGLE_SHIFT && e.id !== IE_LOCKING_SHIFT),
  );
  const wide = Buffer.concat([plain, ucs2Bytes(c.text)]);
  if (wide.length <= maxOctets) return { dataCoding: 8, body: wide, substituted: 0 };
  let substituted = 0;
  let text = '';
  for (const ch of c.text) {
    if (canCarry(ch, to, shift)) text += ch;
    else {
      text += '?';
      substituted++;
    }
  }
  return { dataCoding: 0, body: Buffer.concat([header, encodeText(text, to, shift, fillBitsAfter(header.length))!]), substituted };
}

/** The UDH to write: none if there was none; a header of no elements (length octet 0) if all were dropped, as UDHI stays set. */
function headerOf(before: number, elements: readonly InfoElement[]): Buffer {
  if (before === 0) return Buffer.alloc(0);
  return elements.length === 0 ? Buffer.from([0]) : writeUdh(elements);
}
