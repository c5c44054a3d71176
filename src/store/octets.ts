// SMPP counts C-octet strings in octets, and the gateway reads and writes them one octet per
// character (Latin-1, so ASCII is itself). A value is checked as it will travel: every character
// must be one octet (U+0001..U+00FF) and the octets within SMPP's maximum.
import { InvalidInputError } from '../errors.js';

/** Refuses `value` unless it is `min`..`max` octets of one-octet characters; `what` names the field. */
export function checkOctets(value: string, what: string, min: number, max: number): void {
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (code === 0 || code > 0xff) {
      throw new InvalidInputError(
        `${what} has ${code === 0 ? 'a NUL' : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`}, which SMPP cannot carry (${Buffer.byteLength(value)} octets in UTF-8; SMPP compares octets, one per character: use ASCII)`,
      );
    }
  }
  if (value.length < min || value.length > max)
    throw new InvalidInputError(`${what} must be ${min === max ? max : `${min} to ${max}`} octets (the SMPP maximum is ${max}), got ${value.length}`);
}
