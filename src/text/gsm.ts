// The GSM 7-bit alphabet of 3GPP TS 23.038: the default alphabet and its extension table (ESC
// 0x1B, two septets a character), the national language shift tables (a single shift replaces the
// extension table, a locking shift the default alphabet), and septet packing. SMPP carries GSM text
// unpacked (one septet per octet) unless a carrier says otherwise.
import { DEFAULT_ALPHABET, DEFAULT_EXTENSION, LOCKING_SHIFT, SINGLE_SHIFT } from './national-tables.js';

export const ESC = 0x1b;

/** The national language tables a text uses (UDH IE 0x24 single shift, 0x25 locking shift). */
export interface Shift {
  single?: number;
  locking?: number;
}

/** One pair of tables: septet → character, and character → code (ESC << 8 | septet for a two-septet one). */
interface Alphabet {
  basic: readonly string[];
  extension: ReadonlyMap<number, string>;
  codes: ReadonlyMap<string, number>;
}

const alphabets = new Map<string, Alphabet>();

function alphabet(shift: Shift | undefined): Alphabet {
  const key = `${shift?.locking ?? 0}/${shift?.single ?? 0}`;
  let a = alphabets.get(key);
  if (a) return a;
  const basic = (shift?.locking !== undefined ? LOCKING_SHIFT.get(shift.locking) : undefined) ?? DEFAULT_ALPHABET;
  const extension = (shift?.single !== undefined ? SINGLE_SHIFT.get(shift.single) : undefined) ?? DEFAULT_EXTENSION;
  const codes = new Map<string, number>();
  // A character in both tables costs one septet: the basic table wins.
  for (const [septet, ch] of extension) codes.set(ch, (ESC << 8) | septet);
  basic.forEach((ch, septet) => {
    if (ch !== '' && septet !== ESC) codes.set(ch, septet);
  });
  a = { basic, extension, codes };
  alphabets.set(key, a);
  return a;
}

/** The septets of `text`, or undefined if a character is not in the alphabet (with `shift`'s tables). */
export function gsmSeptets(text: string, shift?: Shift): Uint8Array | undefined {
  const { codes } = alphabet(shift);
  const out: number[] = [];
  for (const ch of text) {
    const code = codes.get(ch);
    if (code === undefined) return undefined;
    if (code > 0xff) out.push(ESC, code & 0x7f);
    else out.push(code);
  }
  return Uint8Array.from(out);
}

/** How many septets a character takes (1, 2 with ESC), or 0 if the alphabet cannot carry it. */
export function gsmCost(ch: string, shift?: Shift): 0 | 1 | 2 {
  const code = alphabet(shift).codes.get(ch);
  return code === undefined ? 0 : code > 0xff ? 2 : 1;
}

/** Can the alphabet (with `shift`'s tables) carry every character of `text`? */
export function isGsm(text: string, shift?: Shift): boolean {
  const { codes } = alphabet(shift);
  for (const ch of text) if (!codes.has(ch)) return false;
  return true;
}

/**
 * Septets to text. An ESC followed by a septet the extension table leaves undefined reads as the
 * basic table's character (what 23.038 tells a handset to show); a lone ESC at the end reads as a
 * space, as does ESC ESC (the reserved further-extension escape).
 */
export function gsmText(septets: ArrayLike<number>, shift?: Shift): string {
  const { basic, extension } = alphabet(shift);
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]! & 0x7f;
    if (s !== ESC) {
      out += basic[s] ?? '';
      continue;
    }
    const next = i + 1 < septets.length ? septets[i + 1]! & 0x7f : undefined;
    i++;
    if (next === undefined || next === ESC) out += ' ';
    else out += extension.get(next) ?? basic[next] ?? '';
  }
  return out;
}

/**
 * Packs septets 8 into 7 octets (23.038 §6.1.2.1.1), after `fillBits` zero bits (the padding
 * that aligns text after a UDH to a septet boundary).
 */
export function packSeptets(septets: ArrayLike<number>, fillBits = 0): Buffer {
  const bits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(bits / 8));
  let pos = fillBits;
  for (let i = 0; i < septets.length; i++, pos += 7) {
    const v = septets[i]! & 0x7f;
    const byte = pos >> 3;
    const shift = pos & 7;
    out[byte]! |= (v << shift) & 0xff;
    if (shift > 1) out[byte + 1]! |= v >> (8 - shift);
  }
  return out;
}

/**
 * Unpacks packed septets. `count` is how many the message holds when known (SMPP carries no
 * septet count: 7 septets and 8 fill the same 7 octets). Without it, a last septet that exactly
 * fills the octets is taken as padding when it is CR (what 23.038 §6.1.2.3.1 asks a sender to pad
 * with) or 0 (what careless packers leave).
 */
export function unpackSeptets(packed: Buffer, fillBits = 0, count?: number): Uint8Array {
  const bits = packed.length * 8 - fillBits;
  const max = bits > 0 ? Math.floor(bits / 7) : 0;
  const n = count === undefined ? max : Math.min(count, max);
  const out = new Uint8Array(n);
  let pos = fillBits;
  for (let i = 0; i < n; i++, pos += 7) {
    const byte = pos >> 3;
    const shift = pos & 7;
    let v = packed[byte]! >> shift;
    if (shift > 1) v |= (packed[byte + 1] ?? 0) << (8 - shift);
    out[i] = v & 0x7f;
  }
  const last = out[n - 1];
  if (count === undefined && n > 0 && bits % 7 === 0 && (last === 0 || last === 0x0d)) return out.subarray(0, n - 1);
  return out;
}

/** The fill bits that align septets after a UDH of `udhOctets` octets (its length octet included). */
export function fillBitsAfter(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}
