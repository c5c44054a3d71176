// How a text fills the 140 octets of user data of an SMS: how many parts, how many characters
// each, and where to cut without splitting an ESC pair or a surrogate pair. Units are septets for
// GSM, UTF-16 units for UCS2, octets for the 8-bit alphabets.
import type { DefaultAlphabet } from './codings.js';
import { type Shift, gsmCost } from './gsm.js';

const USER_DATA_OCTETS = 140;

/** How parts are numbered: a UDH with an 8- or 16-bit reference, or SAR TLVs (the SMSC writes the UDH). */
export type PartForm = 'udh' | 'udh16' | 'sar';

export interface SegmentOptions {
  alphabet: DefaultAlphabet | 'ucs2';
  shift?: Shift;
  form?: PartForm;
  /** Octets of other UDH elements every part carries (2 + data each), e.g. application ports. */
  otherHeaderOctets?: number;
}

export interface Segments {
  /** The text of each part, in order (one for a message that fits). */
  texts: string[];
  /** Units in each part. */
  units: number[];
  /** Units a part may hold at most. */
  capacity: number;
}

/** Octets of a UDH with these elements' octets (0 for none: no length octet either). */
function headerOctets(elementOctets: number): number {
  return elementOctets === 0 ? 0 : 1 + elementOctets;
}

/** Units a part holds when its UDH takes `header` octets. */
export function unitsPerPart(alphabet: DefaultAlphabet | 'ucs2', header: number): number {
  const octets = USER_DATA_OCTETS - header;
  if (alphabet === 'gsm' || alphabet === 'gsm-packed') return Math.floor((octets * 8) / 7);
  if (alphabet === 'ucs2') return Math.floor(octets / 2);
  return octets;
}

/**
 * Octets of the element numbering a part: 5 for an 8-bit reference, 6 for 16-bit. SAR parts are
 * sized as 16-bit ones: the SMSC turns the 16-bit sar_msg_ref_num into a UDH of its own.
 */
function concatOctets(form: PartForm): number {
  return form === 'udh' ? 5 : 6;
}

/** The cost of one character in units (0: the alphabet cannot carry it). */
function costOf(ch: string, alphabet: DefaultAlphabet | 'ucs2', shift: Shift | undefined): number {
  switch (alphabet) {
    case 'gsm':
    case 'gsm-packed':
      return gsmCost(ch, shift);
    case 'ucs2':
      return ch.length;
    case 'latin1':
      return ch.length === 1 && ch.charCodeAt(0) <= 0xff ? 1 : 0;
    case 'ascii':
      return ch.length === 1 && ch.charCodeAt(0) <= 0x7f ? 1 : 0;
  }
}

/** Units `text` takes in the alphabet; undefined when it cannot carry a character. */
export function unitsOf(text: string, alphabet: DefaultAlphabet | 'ucs2', shift?: Shift): number | undefined {
  let n = 0;
  for (const ch of text) {
    const c = costOf(ch, alphabet, shift);
    if (c === 0) return undefined;
    n += c;
  }
  return n;
}

/**
 * Cuts `text` into parts. A text that fits one part stays whole; a longer one is cut at character
 * boundaries into parts of at most `capacity` units. Throws a RangeError when the alphabet cannot
 * carry a character (choose the alphabet with canCarry first).
 */
export function segment(text: string, o: SegmentOptions): Segments {
  const shiftOctets = (o.shift?.single !== undefined ? 3 : 0) + (o.shift?.locking !== undefined ? 3 : 0);
  const other = (o.otherHeaderOctets ?? 0) + shiftOctets;
  const single = unitsPerPart(o.alphabet, headerOctets(other));
  const total = unitsOf(text, o.alphabet, o.shift);
  if (total === undefined) throw new RangeError(`the ${o.alphabet} alphabet cannot carry this text`);
  if (total <= single) return { texts: [text], units: [total], capacity: single };
  const form = o.form ?? 'udh';
  const capacity = unitsPerPart(o.alphabet, headerOctets(other + concatOctets(form)));
  const texts: string[] = [];
  const units: number[] = [];
  let current = '';
  let used = 0;
  for (const ch of text) {
    const c = costOf(ch, o.alphabet, o.shift);
    if (used + c > capacity) {
      texts.push(current);
      units.push(used);
      current = '';
      used = 0;
    }
    current += ch;
    used += c;
  }
  texts.push(current);
  units.push(used);
  return { texts, units, capacity };
}

/** Cuts bytes (binary, or text already encoded in an 8-bit alphabet) into parts of at most the octets a part holds. */
export function segmentOctets(bytes: Buffer, form: PartForm = 'udh', otherHeaderOctets = 0): Buffer[] {
  const single = USER_DATA_OCTETS - headerOctets(otherHeaderOctets);
  if (bytes.length <= single) return [bytes];
  const capacity = USER_DATA_OCTETS - headerOctets(otherHeaderOctets + concatOctets(form));
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += capacity) out.push(bytes.subarray(i, i + capacity));
  return out;
}
