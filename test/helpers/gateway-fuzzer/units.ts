// One unit of a fuzzing connection: mostly a well-formed hostile request (requests.ts), some built
// malformed by hand, some mutated, some other commands, now and then one that breaks the framing;
// and what the gateway will make of a unit (whether it answers, what its answer acknowledges).
import { decode, encode } from '../../../src/smpp/codec.js';
import { COMMANDS, COMMANDS_BY_ID } from '../../../src/smpp/defs.js';
import type { CommandName, Pdu, PduInput, PduOf } from '../../../src/smpp/pdu.js';
import { makeUnit, mutate, restamp } from '../fuzzer.js';
import { hostileAddress, hostileShortMessage, hostileSmppTime, hostileText, randomBytes, randomPdu } from '../random-pdu.js';
import { dataCoding, esmClass, registeredDelivery, ton } from './field-values.js';
import { type RecentIds, hostileCancel, hostileDataSm, hostileMulti, hostileQuery, hostileReplace, hostileSubmit, sizedPdu } from './requests.js';
import { MAX_PDU, PAYLOAD, int, pick } from './shared.js';
import type { Skippable } from './summary.js';

const UNBIND_ID = COMMANDS.get('unbind')!.id;

/** What a request was, kept until its response comes. */
export interface Track {
  kind: 'submit' | 'multi' | 'replace' | 'cancel';
  /** submit_sm / data_sm: the message as the ledger must hold it (sampled). */
  expect?: PduOf<'submit_sm'>;
  /** submit_multi: destinations. */
  dests?: number;
  /** replace_sm / cancel_sm: the id aimed at. */
  target?: string;
}

export interface BuiltUnit {
  bytes: Buffer;
  kind: string;
  track?: Track;
}

/** C-octet string bytes (no check of length or content). */
function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'latin1'), Buffer.from([0])]);
}

/**
 * A submit_sm built by hand with one or two faults the codec would refuse to write: an address
 * past its maximum, a time of the wrong length, sm_length not matching the octets, a string without
 * its NUL, a TLV running past the end, or the body cut short. The header is sound (true length).
 */
function malformedSubmit(rand: () => number, seq: number): Buffer {
  const faults = new Set<number>([int(rand, 7)]);
  if (rand() < 0.3) faults.add(int(rand, 7));
  const addr = (fault: boolean, max: number): string => (fault ? hostileText(rand, 80).padEnd(max + 1 + int(rand, 40), '9') : hostileAddress(rand, max - 1));
  const time = (fault: boolean): string => {
    if (!fault) return hostileSmppTime(rand);
    // Digits like a time, but not 16 of them.
    const n = pick(rand, [1, 2, 15, 17, 20]);
    let t = '';
    for (let i = 0; i < n; i++) t += String.fromCharCode(0x30 + int(rand, 10));
    return t;
  };
  const sm = hostileShortMessage(rand, false);
  const smLength = faults.has(3) ? (rand() < 0.5 ? Math.min(255, sm.length + 1 + int(rand, 20)) : Math.max(0, sm.length - 1 - int(rand, 5))) : sm.length;
  const parts: Buffer[] = [
    cstr(hostileText(rand, 5)),
    Buffer.from([ton(rand), ton(rand)]),
    cstr(addr(faults.has(0), 21)),
    Buffer.from([ton(rand), ton(rand)]),
    cstr(addr(faults.has(1), 21)),
    Buffer.from([esmClass(rand), 0, 0]),
    cstr(time(faults.has(2))),
    cstr(time(faults.has(2) && rand() < 0.5)),
    Buffer.from([registeredDelivery(rand), 0, dataCoding(rand), 0, smLength]),
    sm,
  ];
  if (faults.has(4)) {
    // A string without its NUL: the service_type runs into what follows.
    parts[0] = Buffer.from(hostileText(rand, 5) || 'CMT', 'latin1');
  }
  if (faults.has(5)) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(rand() < 0.5 ? PAYLOAD : int(rand, 0x10000), 0);
    h.writeUInt16BE(rand() < 0.5 ? 0xffff : 1 + int(rand, 300), 2);
    parts.push(h, randomBytes(rand, 8));
  }
  let body = Buffer.concat(parts);
  if (faults.has(6)) body = body.subarray(0, int(rand, body.length));
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + body.length, 0);
  header.writeUInt32BE(COMMANDS.get('submit_sm')!.id, 4);
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(seq, 12);
  return Buffer.concat([header, body]);
}

/** Requests from the other side of the link, or not requests at all: answered with an error, or by nothing. */
const OTHER_COMMANDS: readonly CommandName[] = [
  'enquire_link',
  'enquire_link',
  'deliver_sm',
  'deliver_sm_resp',
  'generic_nack',
  'bind_transceiver',
  'bind_transmitter',
  'outbind',
  'alert_notification',
  'broadcast_sm',
  'query_broadcast_sm',
  'cancel_broadcast_sm',
  'submit_sm_resp',
  'data_sm_resp',
  'unbind_resp',
];

/**
 * The next unit of a bound fuzzing connection. Well-formed hostile requests carry `seq`; mutated
 * and hand-built ones may carry another (their header decides what the gateway answers).
 */
export function nextUnit(rand: () => number, seq: number, ids: RecentIds, sampleRate: number, skip: ReadonlySet<Skippable>): BuiltUnit {
  const r = rand();
  if (r < 0.0003) return makeUnit(rand, 1); // garbage or a bad command_length: the session ends
  if (r < 0.0005) return { kind: 'unbind', bytes: encode({ command: 'unbind', sequence_number: seq }) };
  if (r < 0.003 && !skip.has('oversize-mt')) {
    // At the protocol's size limit: data_sm grows by 7 bytes when the gateway makes it a submit_sm,
    // and a queued submit_sm grows by its new short_message on replace_sm.
    const command = rand() < 0.7 ? 'data_sm' : 'submit_sm';
    const pdu = sizedPdu(rand, command, MAX_PDU - int(rand, 8));
    pdu.sequence_number = seq;
    return { kind: `max-${command}`, bytes: encode(pdu), track: { kind: 'submit' } };
  }
  if (r < 0.04) return { kind: 'malformed', bytes: malformedSubmit(rand, seq) };
  if (r < 0.065) {
    let cmd = pick(rand, OTHER_COMMANDS);
    if (cmd === 'unbind') cmd = 'enquire_link';
    const pdu = randomPdu(rand, cmd);
    pdu.sequence_number = seq;
    return { kind: 'other', bytes: encode(pdu) };
  }
  const q = rand();
  let pdu: PduInput;
  let track: Track | undefined;
  if (q < 0.55) {
    pdu = hostileSubmit(rand);
    track = { kind: 'submit' };
  } else if (q < 0.65) {
    pdu = hostileDataSm(rand);
    track = { kind: 'submit' };
  } else if (q < 0.72) {
    const m = hostileMulti(rand);
    pdu = m;
    track = { kind: 'multi', dests: m.dest_address?.length ?? 0 };
  } else if (q < 0.82) {
    pdu = hostileQuery(rand, ids);
  } else if (q < 0.89) {
    const c = hostileCancel(rand, ids);
    pdu = c;
    track = { kind: 'cancel', target: c.message_id ?? '' };
  } else {
    const rp = hostileReplace(rand, ids);
    pdu = rp;
    track = { kind: 'replace', target: rp.message_id ?? '' };
  }
  pdu.sequence_number = seq;
  let bytes = encode(pdu);
  if (rand() < 0.07) {
    // Mutated: what the gateway sees is decided by the bytes (decoded below when sampled).
    bytes = restamp(mutate(rand, bytes));
    return { kind: `mutated-${pdu.command}`, bytes };
  }
  if (track?.kind === 'submit' && rand() < sampleRate) {
    try {
      track.expect = asStored(decode(bytes));
    } catch {
      // A TLV the codec writes but refuses to read (a zero-length fixed-size one): the gateway refuses it too.
    }
  }
  return { kind: pdu.command, bytes, ...(track ? { track } : {}) };
}

/** A submit_sm or data_sm as the gateway stores it (data_sm becomes a submit_sm with its fields). */
function asStored(pdu: Pdu): PduOf<'submit_sm'> | undefined {
  if (pdu.command === 'submit_sm') return pdu;
  if (pdu.command !== 'data_sm') return undefined;
  return {
    ...pdu,
    command: 'submit_sm',
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    replace_if_present_flag: 0,
    sm_default_msg_id: 0,
    short_message: Buffer.alloc(0),
  };
}

/** For a unit built other than by nextUnit's well-formed branch: what the gateway will make of it. */
export function trackOf(bytes: Buffer): Track | undefined {
  let pdu: Pdu;
  try {
    pdu = decode(bytes);
  } catch {
    return undefined;
  }
  if (pdu.command === 'submit_sm' || pdu.command === 'data_sm') return { kind: 'submit' };
  if (pdu.command === 'submit_multi') return { kind: 'multi', dests: pdu.dest_address.length };
  if (pdu.command === 'replace_sm') return { kind: 'replace', target: pdu.message_id };
  return undefined;
}

/** An unbind the gateway will take as one (it decodes), ending the session. */
export function isUnbind(bytes: Buffer): boolean {
  if (bytes.readUInt32BE(4) !== UNBIND_ID) return false;
  try {
    decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Where the header of `bytes` says the gateway must answer: a request (or an unknown command id) gets one response. */
export function expectsResponse(bytes: Buffer): boolean {
  const def = COMMANDS_BY_ID.get(bytes.readUInt32BE(4));
  return def === undefined || !def.isResponse;
}
