// What a data_coding means, and text to bytes and back in each alphabet. data_coding 0 means what
// each side says its default is (a carrier's link, an account); the rest is SMPP 3.4 §5.2.19, and
// for values above 0x0F the GSM data coding scheme groups of 3GPP TS 23.038 §4.
import { type Shift, gsmSeptets, gsmText, packSeptets, unpackSeptets, isGsm } from './gsm.js';

/** What data_coding 0 means on a link: GSM unpacked (as SMPP carries it), GSM packed, Latin-1 or ASCII. */
export type DefaultAlphabet = 'gsm' | 'gsm-packed' | 'latin1' | 'ascii';
export const DEFAULT_ALPHABETS: readonly DefaultAlphabet[] = ['gsm', 'gsm-packed', 'latin1', 'ascii'];

/** An alphabet the gateway reads and writes; 'binary' and 'other' (JIS, Cyrillic, compressed, …) it passes through untouched. */
export type Alphabet = DefaultAlphabet | 'ucs2' | 'binary' | 'other';

/** The alphabet of a data_coding, given what 0 means. */
export function alphabetOf(dataCoding: number, dc0: DefaultAlphabet): Alphabet {
  switch (dataCoding) {
    case 0x00:
      return dc0;
    case 0x01:
      return 'ascii';
    case 0x02:
    case 0x04:
      return 'binary';
    case 0x03:
      return 'latin1';
    case 0x08:
      return 'ucs2';
  }
  if (dataCoding < 0x10) return 'other';
  const group = dataCoding >> 4;
  // General data coding (00xx): bit 5 compressed; bits 3–2 the alphabet.
  if (group <= 0x3) {
    if (dataCoding & 0x20) return 'other';
    return byAlphabetBits((dataCoding >> 2) & 0x3);
  }
  // Message waiting indication: discard/store (GSM 7-bit), store (UCS2).
  if (group === 0xc || group === 0xd) return 'gsm';
  if (group === 0xe) return 'ucs2';
  // Data coding/message class: bit 2 chooses 8-bit data over GSM 7-bit.
  if (group === 0xf) return dataCoding & 0x04 ? 'binary' : 'gsm';
  return 'other';
}

function byAlphabetBits(bits: number): Alphabet {
  return bits === 0 ? 'gsm' : bits === 1 ? 'binary' : bits === 2 ? 'ucs2' : 'other';
}

/** Does this alphabet carry text the gateway reads (rather than bytes it must not touch)? */
export function isText(a: Alphabet): a is DefaultAlphabet | 'ucs2' {
  return a !== 'binary' && a !== 'other';
}

/** Why UCS2 bytes are not taken as UTF-16BE text. */
export type Ucs2Fault = 'odd_length' | 'little_endian';

/**
 * UCS2 bytes as UTF-16BE: a leading byte-order mark FE FF is stripped; FF FE, or text whose every
 * unit reads as U+xx00 with an ASCII high octet (ASCII written little-endian), is refused, as is an
 * odd length. Three units at least: a short CJK text can read
 * as U+xx00 too.
 */
export function ucs2Fault(bytes: Buffer): Ucs2Fault | undefined {
  if (bytes.length % 2 !== 0) return 'odd_length';
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return 'little_endian';
  if (bytes.length < 6) return undefined;
  for (let i = 0; i < bytes.length; i += 2) {
    const high = bytes[i]!;
    if (bytes[i + 1] !== 0 || ((high < 0x20 || high > 0x7e) && high !== 0x0a && high !== 0x0d)) return undefined;
  }
  return 'little_endian';
}

/** UTF-16BE bytes to text (a leading BOM dropped); the caller has checked ucs2Fault. */
export function ucs2Text(bytes: Buffer): string {
  const from = bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff ? 2 : 0;
  const even = bytes.length - ((bytes.length - from) % 2);
  return Buffer.from(bytes.subarray(from, even)).swap16().toString('utf16le');
}

/** Text to UTF-16BE (surrogate pairs as two units). */
export function ucs2Bytes(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/**
 * Bytes to text in a text alphabet. `fillBits` applies to packed GSM after a UDH. Octets ASCII
 * cannot carry (above 0x7F) read as U+FFFD.
 */
export function decodeText(bytes: Buffer, alphabet: DefaultAlphabet | 'ucs2', shift?: Shift, fillBits = 0): string {
  switch (alphabet) {
    case 'gsm':
      return gsmText(bytes, shift);
    case 'gsm-packed':
      return gsmText(unpackSeptets(bytes, fillBits), shift);
    case 'latin1':
      return bytes.toString('latin1');
    case 'ascii':
      return bytes.toString('latin1').replace(/[\u0080-\u00ff]/g, '\ufffd');
    case 'ucs2':
      return ucs2Text(bytes);
  }
}

/** Can the alphabet carry every character of `text`? */
export function canCarry(text: string, alphabet: DefaultAlphabet | 'ucs2', shift?: Shift): boolean {
  switch (alphabet) {
    case 'gsm':
    case 'gsm-packed':
      return isGsm(text, shift);
    case 'latin1':
      return maxCode(text) <= 0xff;
    case 'ascii':
      return maxCode(text) <= 0x7f;
    case 'ucs2':
      return true;
  }
}

/** The highest UTF-16 unit of `text` (0 for none). */
function maxCode(text: string): number {
  let max = 0;
  for (let i = 0; i < text.length; i++) max = Math.max(max, text.charCodeAt(i));
  return max;
}

/** Text to bytes; undefined when the alphabet cannot carry it (see canCarry). */
export function encodeText(text: string, alphabet: DefaultAlphabet | 'ucs2', shift?: Shift, fillBits = 0): Buffer | undefined {
  if (!canCarry(text, alphabet, shift)) return undefined;
  switch (alphabet) {
    case 'gsm':
      return Buffer.from(gsmSeptets(text, shift)!);
    case 'gsm-packed':
      return packSeptets(gsmSeptets(text, shift)!, fillBits);
    case 'latin1':
    case 'ascii':
      return Buffer.from(text, 'latin1');
    case 'ucs2':
      return ucs2Bytes(text);
  }
}
