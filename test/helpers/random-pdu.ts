// Deterministic random PDUs for property, fuzz and differential tests.
//
//   const rand = seededRandom(42);
//   const pdu = randomPdu(rand, 'submit_sm');      // or randomPdu(rand) for any command
//   assert.deepEqual(decode(encode(pdu)), pdu);    // holds for every PDU randomPdu makes
//
// Every mandatory field is present (in table order) with a value that honours the maxima in defs.ts;
// `tlvs` is always present: undefined or a non-empty list (decode gives the same), so the round trip
// above is a plain deep equality. Responses sometimes carry an error status; when the codec writes no
// body for that error (all responses but BODY_ON_ERROR), the body fields hold their defaults.
import { BODY_ON_ERROR, COMMANDS, MAX_SEQUENCE, MIN_SEQUENCE, Status, TLVS, TLVS_BY_TAG, type FieldDef, type TlvDef } from '../../src/smpp/defs.js';
import type { CommandName, DestAddress, PduInput, Tlv, UnsuccessSme } from '../../src/smpp/pdu.js';

/** The simulator's seeded PRNG (mulberry32): the same seed always gives the same sequence. */
export { seededRandom } from '../../src/sim/util.js';

/** Every command name the tables define, in table order. */
export const ALL_COMMANDS: readonly CommandName[] = [...COMMANDS.keys()] as CommandName[];

const int = (rand: () => number, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: () => number, list: readonly T[]): T => list[int(rand, list.length)]!;

/** A length in 0..max, with the edges (0 and max) more likely than uniform. */
function randomLength(rand: () => number, max: number): number {
  const r = rand();
  if (r < 0.15) return 0;
  if (r < 0.3) return max;
  return int(rand, max + 1);
}

/** Printable ASCII (0x20..0x7E), so that every SMPP implementation carries it unchanged. */
export function randomText(rand: () => number, maxLen: number): string {
  const n = randomLength(rand, maxLen);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + int(rand, 0x5f));
  return s;
}

export function randomBytes(rand: () => number, maxLen: number, minLen = 0): Buffer {
  const n = minLen + randomLength(rand, maxLen - minLen);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 256);
  return b;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** A valid 16-character SMPP time: absolute `YYMMDDhhmmsstnn±` or relative `YYMMDDhhmmss000R`. */
export function randomSmppTime(rand: () => number): string {
  if (rand() < 0.3) {
    return `${two(int(rand, 100))}${two(int(rand, 12))}${two(int(rand, 31))}${two(int(rand, 24))}${two(int(rand, 60))}${two(int(rand, 60))}000R`;
  }
  return (
    `${two(int(rand, 100))}${two(1 + int(rand, 12))}${two(1 + int(rand, 28))}` +
    `${two(int(rand, 24))}${two(int(rand, 60))}${two(int(rand, 60))}` +
    `${int(rand, 10)}${two(int(rand, 49))}${rand() < 0.5 ? '+' : '-'}`
  );
}

const ERROR_STATUSES = Object.values(Status).filter((s) => s !== 0);

function randomField(rand: () => number, f: FieldDef): unknown {
  switch (f.kind) {
    case 'u8':
      return int(rand, 0x100);
    case 'u16':
      return int(rand, 0x10000);
    case 'u32':
      return int(rand, 0x100000000);
    case 'cstring':
      if (f.exact) return rand() < 0.4 ? '' : randomSmppTime(rand);
      return randomText(rand, f.max - 1);
    case 'octets':
      return randomBytes(rand, f.max);
    case 'dest_addresses': {
      const n = rand() < 0.05 ? int(rand, f.max + 1) : int(rand, 6);
      const list: DestAddress[] = [];
      for (let i = 0; i < n; i++) {
        list.push(
          rand() < 0.75
            ? { dest_flag: 1, dest_addr_ton: int(rand, 256), dest_addr_npi: int(rand, 256), destination_addr: randomText(rand, 20) }
            : { dest_flag: 2, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: randomText(rand, 20) },
        );
      }
      return list;
    }
    case 'unsuccess_smes': {
      const n = rand() < 0.05 ? int(rand, f.max + 1) : int(rand, 6);
      const list: UnsuccessSme[] = [];
      for (let i = 0; i < n; i++) {
        list.push({
          dest_addr_ton: int(rand, 256),
          dest_addr_npi: int(rand, 256),
          destination_addr: randomText(rand, 20),
          error_status_code: rand() < 0.5 ? pick(rand, ERROR_STATUSES) : int(rand, 0x100000000),
        });
      }
      return list;
    }
  }
}

/** The value a field takes in a decoded error response without a body. */
function defaultField(f: FieldDef): unknown {
  if (f.kind === 'octets') return Buffer.alloc(0);
  if (f.kind === 'dest_addresses' || f.kind === 'unsuccess_smes') return [];
  return f.default;
}

// Octet TLVs with a structure: [min, max] value size (SMPP 3.4 §5.3.2 / 5.0 §4.8.4; the smpp
// package's decode filters need at least the minimum).
const OCTET_TLV_SIZE: Record<string, [number, number]> = {
  source_subaddress: [2, 23],
  dest_subaddress: [2, 23],
  callback_num: [4, 19],
  callback_num_atag: [1, 65],
  network_error_code: [3, 3],
  broadcast_content_type: [3, 3],
  broadcast_frequency_interval: [3, 3],
  broadcast_area_identifier: [1, 100],
  billing_identification: [1, 1024],
  ms_validity: [1, 4],
  its_session_info: [2, 2],
};

function randomTlvValue(rand: () => number, def: TlvDef): Buffer {
  switch (def.kind) {
    case 'u8':
      return Buffer.from([int(rand, 256)]);
    case 'u16':
      return randomBytes(rand, 2, 2);
    case 'u32':
      return randomBytes(rand, 4, 4);
    case 'cstring':
      return Buffer.from(`${randomText(rand, 64)}\0`, 'latin1');
    case 'string':
      if (def.name === 'broadcast_end_time') return Buffer.from(randomSmppTime(rand), 'latin1');
      return Buffer.from(randomText(rand, 32), 'latin1');
    case 'octets': {
      if (def.name === 'message_payload') return randomBytes(rand, rand() < 0.1 ? 4000 : 400);
      const [min, max] = OCTET_TLV_SIZE[def.name] ?? [0, 64];
      return randomBytes(rand, max, min);
    }
  }
}

const STANDARD_TLVS: readonly TlvDef[] = [...TLVS.values()];

/**
 * 0..6 TLVs: standard ones (each at most once unless the tables allow several) and unknown tags
 * 0x1400..0x14FF with random bytes, in random order.
 */
export function randomTlvs(rand: () => number): Tlv[] {
  const n = 1 + int(rand, 6);
  const list: Tlv[] = [];
  const used = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (rand() < 0.2) {
      list.push({ tag: 0x1400 + int(rand, 0x100), value: randomBytes(rand, 40) });
      continue;
    }
    const def = pick(rand, STANDARD_TLVS);
    if (used.has(def.tag) && !def.multiple) continue;
    used.add(def.tag);
    list.push({ tag: def.tag, value: randomTlvValue(rand, def) });
  }
  return list;
}

/** A valid random PDU of `command` (or of a random command). See the file comment. */
export function randomPdu(rand: () => number, command?: CommandName): PduInput {
  const name = command ?? pick(rand, ALL_COMMANDS);
  const def = COMMANDS.get(name);
  if (def === undefined) throw new Error(`unknown command ${name}`);
  const status = def.isResponse && rand() < 0.2 ? pick(rand, ERROR_STATUSES) : 0;
  const bodyless = status !== 0 && !BODY_ON_ERROR.has(name);
  const pdu: Record<string, unknown> = {
    command: name,
    command_status: status,
    sequence_number: MIN_SEQUENCE + int(rand, MAX_SEQUENCE - MIN_SEQUENCE + 1),
  };
  for (const f of def.fields) pdu[f.name] = bodyless ? defaultField(f) : randomField(rand, f);
  pdu.tlvs = !bodyless && rand() < 0.5 ? randomTlvs(rand) : undefined;
  return pdu as unknown as PduInput;
}

/**
 * The options object `new smpp.PDU(command, options)` takes for `pdu`. What the smpp package cannot
 * express is left out: unknown TLVs (it never encodes them) and a TLV named like a mandatory field
 * of the command (message_state in query_sm_resp: it would overwrite the field). A TLV the tables
 * mark `multiple` becomes a list; of a repeated single TLV, smpp keeps the last value (at the place
 * of the first).
 */
export function toSmppOptions(pdu: PduInput): Record<string, unknown> {
  const def = COMMANDS.get(pdu.command);
  if (def === undefined) throw new Error(`unknown command ${pdu.command}`);
  const src = pdu as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {
    command_status: pdu.command_status ?? 0,
    sequence_number: pdu.sequence_number,
  };
  const fieldNames = new Set(def.fields.map((f) => f.name));
  for (const f of def.fields) {
    const v = src[f.name];
    if (v === undefined) continue;
    if (f.kind === 'dest_addresses') {
      out[f.name] = (v as DestAddress[]).map((d) =>
        d.dest_flag === 2
          ? { dl_name: d.destination_addr }
          : { dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi, destination_addr: d.destination_addr },
      );
    } else if (f.kind === 'unsuccess_smes') {
      out[f.name] = (v as UnsuccessSme[]).map((u) => ({ ...u }));
    } else {
      out[f.name] = v;
    }
  }
  for (const t of pdu.tlvs ?? []) {
    const tdef = TLVS_BY_TAG.get(t.tag);
    if (tdef === undefined || fieldNames.has(tdef.name)) continue;
    const value = smppTlvValue(tdef, t.value);
    if (tdef.multiple) ((out[tdef.name] ??= []) as unknown[]).push(value);
    else out[tdef.name] = value;
  }
  return out;
}

/** A raw TLV value as the smpp package holds it (before its filters). */
export function smppTlvValue(def: TlvDef, value: Buffer): unknown {
  switch (def.kind) {
    case 'u8':
      return value.readUInt8(0);
    case 'u16':
      return value.readUInt16BE(0);
    case 'u32':
      return value.readUInt32BE(0);
    case 'cstring':
      return value.toString('latin1', 0, Math.max(0, value.length - 1));
    case 'string':
      return value.toString('latin1');
    case 'octets':
      return value;
  }
}

// ---- hostile field values ---------------------------------------------------------------------
// For fuzzing a whole gateway: values that are valid on the wire (so they pass the codec and reach
// routing, the store, receipts and the logs) but hostile to whatever handles them next: control
// characters, quotes, JSON and SQL fragments, Latin-1 high bytes, edge lengths, invalid times.

/** Strings whose characters (all 0x01..0xFF, so any C-octet string carries them) are trouble downstream. */
export const HOSTILE_TEXTS: readonly string[] = [
  "'; DROP TABLE messages; --",
  "' OR '1'='1",
  '"},{"level":60,"msg":"forged"}',
  '\n{"level":50,"msg":"forged line"}\n',
  '\r\n\r\n',
  '\u001b[2J\u001b[31mred\u001b[0m',
  '\u0007\u0008\u007f',
  '\u0085', // NEL: a line break to some log readers
  '%s%s%n%x',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile text, not a template
  '${process.exit(1)}',
  '__proto__',
  'constructor',
  '\\u0000\\',
  '\\"',
  '\t \t',
  ' ',
  '+',
  '00',
  '+0049 151 1234',
  '\u00ff\u00fe\u00fd',
  '\u0080\u0081\u009b\u009f',
  'NaN',
  '-1',
  '1e308',
  'id:1 stat:DELIVRD',
];

/** A C-octet string of up to `maxLen` characters from 0x01..0xFF, often built from HOSTILE_TEXTS. */
export function hostileText(rand: () => number, maxLen: number): string {
  if (maxLen <= 0) return '';
  const r = rand();
  let s: string;
  if (r < 0.1) s = '';
  else if (r < 0.35) s = pick(rand, HOSTILE_TEXTS);
  else if (r < 0.55) {
    const n = randomLength(rand, maxLen);
    s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(1 + int(rand, 0xff));
  } else if (r < 0.75) {
    // Digits, each one in ten replaced by any other character.
    const n = 1 + int(rand, maxLen);
    s = '';
    for (let i = 0; i < n; i++) s += rand() < 0.9 ? String.fromCharCode(0x30 + int(rand, 10)) : String.fromCharCode(1 + int(rand, 0xff));
  } else if (r < 0.9) {
    s = randomText(rand, maxLen);
  } else {
    // At the limit exactly.
    s = '';
    for (let i = 0; i < maxLen; i++) s += String.fromCharCode(rand() < 0.5 ? 0x39 : 1 + int(rand, 0xff));
  }
  return s.length > maxLen ? s.slice(0, maxLen) : s;
}

/**
 * An address of up to `maxLen` characters: mostly numbers (national, international with and without
 * "+", short codes), some alphanumeric sender ids, some hostile text; `prefixes` are put in front
 * now and then so that prefix routes are taken.
 */
export function hostileAddress(rand: () => number, maxLen: number, prefixes: readonly string[] = []): string {
  const r = rand();
  let s: string;
  if (r < 0.4) {
    const n = 5 + int(rand, 11);
    s = rand() < 0.3 ? '+' : '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x30 + int(rand, 10));
  } else if (r < 0.5) {
    s = String(10000 + int(rand, 90000));
  } else if (r < 0.6) {
    s = randomText(rand, 11);
  } else {
    s = hostileText(rand, maxLen);
  }
  if (prefixes.length > 0 && rand() < 0.3) s = pick(rand, prefixes) + s;
  return s.length > maxLen ? s.slice(0, maxLen) : s;
}

/**
 * A schedule_delivery_time or validity_period value the codec carries (empty or 16 characters):
 * valid absolute and relative times, times in the past, far in the future, and 16-character
 * strings that are not SMPP times at all.
 */
export function hostileSmppTime(rand: () => number): string {
  const r = rand();
  if (r < 0.35) return '';
  if (r < 0.6) return randomSmppTime(rand);
  if (r < 0.7)
    return pick(rand, [
      '000000000000000R',
      '000000000100000R',
      '990000000000000R',
      '000001000000000R',
      '991231235959948+',
      '000101000000000+',
      '010101000000000-',
    ]);
  if (r < 0.8) {
    // Shaped like a time but out of range: month 13, day 32, hour 24, nn 49, 31 February, …
    return pick(rand, [
      '991331000000000+',
      '990132000000000+',
      '990101240000000+',
      '990101006000000+',
      '990101000060000+',
      '990101000000049+',
      '990231000000000+',
      '9901010000000001',
      '99010100000000 +',
      '-90101000000000+',
    ]);
  }
  let s = '';
  for (let i = 0; i < 16; i++) s += String.fromCharCode(1 + int(rand, 0xff));
  return s;
}

/** A User Data Header for esm_class UDHI: concatenation IEs (8- and 16-bit), often inconsistent. */
export function randomUdh(rand: () => number): Buffer {
  const r = rand();
  if (r < 0.4) return Buffer.from([0x05, 0x00, 0x03, int(rand, 256), 1 + int(rand, 3), int(rand, 4)]);
  if (r < 0.6) return Buffer.from([0x06, 0x08, 0x04, int(rand, 256), int(rand, 256), int(rand, 5), int(rand, 5)]);
  if (r < 0.75) return Buffer.from([0xff, 0x00, 0x03]); // UDHL past the end
  if (r < 0.85) return Buffer.from([0x00]);
  return randomBytes(rand, 12, 1);
}

/** short_message octets: empty, at the 254 limit, text, random bytes, UCS-2 with an odd length, with a UDH. */
export function hostileShortMessage(rand: () => number, udh: boolean): Buffer {
  const r = rand();
  let body: Buffer;
  if (r < 0.1) body = Buffer.alloc(0);
  else if (r < 0.2) body = randomBytes(rand, 254, 254);
  else if (r < 0.45) body = Buffer.from(hostileText(rand, 160), 'latin1');
  else body = randomBytes(rand, 200);
  if (udh) body = Buffer.concat([randomUdh(rand), body]);
  return body.length > 254 ? body.subarray(0, 254) : body;
}

/** TLVs a submit may carry: randomTlvs' mix plus message_payload (empty to large), zero-length and repeated tags. */
export function hostileTlvs(rand: () => number, payload: 'none' | 'maybe' | 'always' = 'maybe'): Tlv[] | undefined {
  const list: Tlv[] = rand() < 0.4 ? randomTlvs(rand) : [];
  const payloadTag = TLVS.get('message_payload')!.tag;
  const withoutPayload = list.filter((t) => t.tag !== payloadTag);
  if (payload === 'always' || (payload === 'maybe' && rand() < 0.1)) {
    const q = rand();
    const value = q < 0.1 ? Buffer.alloc(0) : q < 0.2 ? randomBytes(rand, 30000, 10000) : randomBytes(rand, 1200);
    withoutPayload.splice(int(rand, withoutPayload.length + 1), 0, { tag: payloadTag, value });
  }
  if (rand() < 0.05) withoutPayload.push({ tag: pick(rand, [0x0000, 0xffff, 0x1400 + int(rand, 0x100), 0x0204]), value: Buffer.alloc(0) });
  return withoutPayload.length > 0 ? withoutPayload : undefined;
}
