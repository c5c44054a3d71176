// Hostile values for the fields both the ESME's requests and the carrier's PDUs carry, and the
// addresses the gateway's routes know (so that some hostile traffic is routed, not just refused).
import { encode } from '../../../src/smpp/codec.js';
import type { PduInput } from '../../../src/smpp/pdu.js';
import { randomBytes } from '../random-pdu.js';
import { PAYLOAD, int, pick } from './shared.js';

/** MT prefixes the routes know: 99 the hostile carrier, 98 failover hostile → sim, 97 weighted. */
export const MT_PREFIXES = ['99', '98', '97', '+99', '0'];
/** MO destinations the MO routes know (12345 with a keyword, 55555 any text) and some they do not. */
export const MO_SHORT_CODES = ['12345', '12345', '55555', '54321', '4917000000'];
export const MO_KEYWORDS = ['VOTE ', 'vote', ' Vote\t', 'VOTE', 'VOTER ', ''];

export function ton(rand: () => number): number {
  return rand() < 0.8 ? pick(rand, [0, 1, 2, 3, 4, 5, 6, 0, 1, 1, 5]) : int(rand, 256);
}

export function registeredDelivery(rand: () => number): number {
  return rand() < 0.85 ? pick(rand, [0, 1, 1, 1, 2, 3, 0x11, 0x1d]) : int(rand, 256);
}

export function esmClass(rand: () => number): number {
  return rand() < 0.7 ? pick(rand, [0, 0, 0, 0x40, 0x40, 0x03, 0x02]) : int(rand, 256);
}

export function dataCoding(rand: () => number): number {
  return rand() < 0.5 ? pick(rand, [0, 0, 1, 3, 4, 8, 8, 0xf0, 0xf4]) : int(rand, 256);
}

/** `pdu` with a random message_payload that makes the whole PDU `total` bytes (the protocol's limit is 65,536). */
export function filledTo<T extends PduInput<'submit_sm'> | PduInput<'data_sm'>>(rand: () => number, pdu: T, total: number): T {
  const fill = Math.max(0, total - encode({ ...pdu, tlvs: [{ tag: PAYLOAD, value: Buffer.alloc(0) }] }).length);
  return { ...pdu, tlvs: [{ tag: PAYLOAD, value: randomBytes(rand, fill, fill) }] };
}
