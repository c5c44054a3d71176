// PDU ⇄ Buffer. For each command the field table from defs.ts is compiled once, at load time, into
// straight-line decode and encode functions (as protobufjs does): a generic field loop with keyed
// property stores runs several times slower, and the codec sits on every message's path.
// Text fields are Latin-1 (byte ⇄ char, lossless); short_message and TLV values stay raw bytes.
import { PduError } from './errors.js';
import {
  BODY_ON_ERROR,
  COMMANDS,
  ESME_RINVCMDID,
  ESME_RINVCMDLEN,
  ESME_RINVDESTFLAG,
  ESME_RINVDLNAME,
  ESME_RINVDSTADR,
  ESME_RINVTLVLEN,
  ESME_RINVTLVSTREAM,
  ESME_RINVTLVVAL,
  TLVS_BY_TAG,
  type CommandDef,
  type FieldDef,
} from './defs.js';
import type { CommandName, DestAddress, Pdu, PduInput, PduOf, Tlv, UnsuccessSme } from './pdu.js';

export const HEADER_SIZE = 16;
export const DEFAULT_MAX_PDU_SIZE = 64 * 1024;

const EMPTY = Buffer.alloc(0);

type Decoder = (b: Buffer, p: number, end: number, status: number, seq: number) => Pdu;
type Encoder = (m: object, status: number, seq: number) => Buffer;

// ---- helpers the compiled functions call ------------------------------------------------------

function missing(field: string): PduError {
  return new PduError(ESME_RINVCMDLEN, 'body ends before this field', field);
}

/**
 * No NUL within `max` bytes. When the body ended first the PDU is cut short (its command_length
 * does not cover its fields): ESME_RINVCMDLEN, as for any other missing field; otherwise the value is
 * too long: the field's own status.
 */
function badCString(field: string, len: number, max: number, status: number, atEnd: boolean): PduError {
  return atEnd && len < max
    ? new PduError(ESME_RINVCMDLEN, len === 0 ? 'body ends before this field' : 'body ends inside this C-octet string (no terminating NUL)', field)
    : new PduError(status, `longer than ${max - 1} characters`, field);
}

function badLength(field: string, len: number, allowed: readonly number[], status: number): PduError {
  return new PduError(status, `length ${len}, must be ${allowed.join(' or ')}`, field);
}

function badValue(field: string, message: string, status: number): PduError {
  return new PduError(status, message, field);
}

/** Writes a Latin-1 C-octet string; refuses characters that one octet cannot carry, and NUL. */
function writeCString(b: Buffer, p: number, s: string, field: string, status: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new PduError(status, `character U+${c.toString(16).padStart(4, '0')} cannot be sent`, field);
    b[p++] = c;
  }
  b[p++] = 0;
  return p;
}

/** Reads a C-octet string bounded by `max` (with NUL) or the end; returns the string and moves `cursor.p`. */
function readCString(b: Buffer, cursor: { p: number }, end: number, max: number, field: string, status: number): string {
  const p = cursor.p;
  const lim = Math.min(end, p + max);
  let e = p;
  while (e < lim && b[e] !== 0) e++;
  if (e === lim) throw badCString(field, e - p, max, status, lim === end);
  cursor.p = e + 1;
  return b.toString('latin1', p, e);
}

function readDestAddresses(b: Buffer, cursor: { p: number }, end: number, def: FieldDef): DestAddress[] {
  if (cursor.p >= end) throw missing('number_of_dests');
  const n = b[cursor.p++]!;
  if (n > def.max) throw badValue('number_of_dests', `${n} is more than ${def.max}`, def.status);
  const list: DestAddress[] = [];
  for (let i = 0; i < n; i++) {
    if (cursor.p >= end) throw missing('dest_flag');
    const flag = b[cursor.p++]!;
    if (flag === 1) {
      if (cursor.p + 2 > end) throw missing('dest_addr_ton');
      const ton = b[cursor.p++]!;
      const npi = b[cursor.p++]!;
      const addr = readCString(b, cursor, end, 21, 'destination_addr', ESME_RINVDSTADR);
      list.push({ dest_flag: 1, dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: addr });
    } else if (flag === 2) {
      const name = readCString(b, cursor, end, 21, 'dl_name', ESME_RINVDLNAME);
      list.push({ dest_flag: 2, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: name });
    } else {
      throw badValue('dest_flag', `${flag} is neither 1 (SME address) nor 2 (distribution list)`, ESME_RINVDESTFLAG);
    }
  }
  return list;
}

function readUnsuccess(b: Buffer, cursor: { p: number }, end: number, def: FieldDef): UnsuccessSme[] {
  if (cursor.p >= end) throw missing('no_unsuccess');
  const n = b[cursor.p++]!;
  if (n > def.max) throw badValue('no_unsuccess', `${n} is more than ${def.max}`, def.status);
  const list: UnsuccessSme[] = [];
  for (let i = 0; i < n; i++) {
    if (cursor.p + 2 > end) throw missing('dest_addr_ton');
    const ton = b[cursor.p++]!;
    const npi = b[cursor.p++]!;
    const addr = readCString(b, cursor, end, 21, 'destination_addr', ESME_RINVDSTADR);
    if (cursor.p + 4 > end) throw missing('error_status_code');
    const code = b.readUInt32BE(cursor.p);
    cursor.p += 4;
    list.push({ dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: addr, error_status_code: code });
  }
  return list;
}

/** Checks a dest_address list (so that the writer cannot fail half-way) and returns its size. */
function destAddressesSize(list: DestAddress[], def: FieldDef): number {
  if (!Array.isArray(list)) throw badValue(def.name, 'must be a list', def.status);
  if (list.length > def.max) throw badValue(def.name, `${list.length} destinations, at most ${def.max}`, def.status);
  let size = 1;
  for (const d of list) {
    if (d === null || typeof d !== 'object') throw badValue(def.name, 'entries must be objects', def.status);
    const flag = d.dest_flag ?? 1;
    if (flag !== 1 && flag !== 2) throw badValue('dest_flag', `${String(flag)} is neither 1 (SME address) nor 2 (distribution list)`, ESME_RINVDESTFLAG);
    size +=
      flag === 2
        ? 2 + checkCString(d.destination_addr, 21, 'dl_name', ESME_RINVDLNAME).length
        : 4 + checkCString(d.destination_addr, 21, 'destination_addr', ESME_RINVDSTADR).length;
  }
  return size;
}

function writeDestAddresses(b: Buffer, p: number, list: DestAddress[]): number {
  b[p++] = list.length;
  for (const d of list) {
    if (d.dest_flag === 2) {
      b[p++] = 2;
      p = writeCString(b, p, d.destination_addr ?? '', 'dl_name', ESME_RINVDLNAME);
    } else {
      b[p++] = 1;
      b[p++] = checkInt(d.dest_addr_ton ?? 0, 0xff, 'dest_addr_ton');
      b[p++] = checkInt(d.dest_addr_npi ?? 0, 0xff, 'dest_addr_npi');
      p = writeCString(b, p, d.destination_addr ?? '', 'destination_addr', ESME_RINVDSTADR);
    }
  }
  return p;
}

/** Checks an unsuccess_sme list (so that the writer cannot fail half-way) and returns its size. */
function unsuccessSize(list: UnsuccessSme[], def: FieldDef): number {
  if (!Array.isArray(list)) throw badValue(def.name, 'must be a list', def.status);
  if (list.length > def.max) throw badValue(def.name, `${list.length} entries, at most ${def.max}`, def.status);
  let size = 1;
  for (const u of list) {
    if (u === null || typeof u !== 'object') throw badValue(def.name, 'entries must be objects', def.status);
    size += 7 + checkCString(u.destination_addr, 21, 'destination_addr', ESME_RINVDSTADR).length;
  }
  return size;
}

function writeUnsuccess(b: Buffer, p: number, list: UnsuccessSme[]): number {
  b[p++] = list.length;
  for (const u of list) {
    b[p++] = checkInt(u.dest_addr_ton ?? 0, 0xff, 'dest_addr_ton');
    b[p++] = checkInt(u.dest_addr_npi ?? 0, 0xff, 'dest_addr_npi');
    p = writeCString(b, p, u.destination_addr ?? '', 'destination_addr', ESME_RINVDSTADR);
    b.writeUInt32BE(checkInt(u.error_status_code ?? 0, 0xffffffff, 'error_status_code'), p);
    p += 4;
  }
  return p;
}

function checkCString(s: unknown, max: number, field: string, status: number): string {
  if (s === undefined) return '';
  if (typeof s !== 'string') throw badValue(field, 'must be a string', status);
  if (s.length > max - 1) throw badValue(field, `longer than ${max - 1} characters`, status);
  return s;
}

function checkInt(v: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw badValue(field, `${v} is not an integer in 0..${max}`, ESME_RINVCMDLEN);
  return v;
}

/** How errors name a TLV: its name in the tables, else `tlv 0x1400`. */
function tlvField(tag: number): string {
  return TLVS_BY_TAG.get(tag)?.name ?? `tlv 0x${tag.toString(16).padStart(4, '0')}`;
}

function readTlvs(b: Buffer, p: number, end: number): Tlv[] {
  const list: Tlv[] = [];
  while (p < end) {
    if (p + 4 > end) throw new PduError(ESME_RINVTLVSTREAM, `${end - p} bytes left over after the last parameter, too few for a TLV header`, 'tlvs');
    const tag = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    if (p + len > end) throw new PduError(ESME_RINVTLVLEN, `length ${len} runs past the end of the PDU`, tlvField(tag));
    const def = TLVS_BY_TAG.get(tag);
    if (def !== undefined) checkTlvValue(def.name, def.kind, b, p, len);
    list.push({ tag, value: b.subarray(p, p + len) });
    p += len;
  }
  return list;
}

const TLV_INT_SIZE: Record<string, number> = { u8: 1, u16: 2, u32: 4 };

function checkTlvValue(name: string, kind: string, b: Buffer, p: number, len: number): void {
  const size = TLV_INT_SIZE[kind];
  if (size !== undefined && len !== size) throw new PduError(ESME_RINVTLVLEN, `length ${len}, must be ${size}`, name);
  if (kind === 'cstring' && (len === 0 || b[p + len - 1] !== 0 || b.indexOf(0, p) !== p + len - 1)) {
    throw new PduError(ESME_RINVTLVVAL, 'not a NUL-terminated string', name);
  }
}

function tlvsSize(tlvs: Tlv[]): number {
  let size = 0;
  for (const t of tlvs) {
    if (t === null || typeof t !== 'object' || !Number.isInteger(t.tag) || t.tag < 0 || t.tag > 0xffff) {
      throw new PduError(ESME_RINVTLVVAL, `tag ${String(t?.tag)} is not 16-bit`, 'tlvs');
    }
    if (!Buffer.isBuffer(t.value) || t.value.length > 0xffff)
      throw new PduError(ESME_RINVTLVLEN, 'value must be a Buffer of at most 65535 bytes', tlvField(t.tag));
    size += 4 + t.value.length;
  }
  return size;
}

function writeTlvs(b: Buffer, p: number, tlvs: Tlv[]): number {
  for (const t of tlvs) {
    b[p++] = t.tag >>> 8;
    b[p++] = t.tag & 0xff;
    b[p++] = t.value.length >>> 8;
    b[p++] = t.value.length & 0xff;
    p += t.value.copy(b, p);
  }
  return p;
}

const helpers = {
  EMPTY,
  PduError,
  ESME_RINVCMDLEN,
  missing,
  badCString,
  badLength,
  badValue,
  writeCString,
  readCString,
  readDestAddresses,
  readUnsuccess,
  destAddressesSize,
  writeDestAddresses,
  unsuccessSize,
  writeUnsuccess,
  readTlvs,
  tlvsSize,
  writeTlvs,
  checkInt,
};

// ---- compilation ------------------------------------------------------------------------------

const IDENT = /^[a-z][a-z0-9_]*$/;
const INT_MAX: Record<string, number> = { u8: 0xff, u16: 0xffff, u32: 0xffffffff };

function compileDecoder(cmd: CommandDef): Decoder {
  const lines: string[] = ['let e = 0, lim = 0, n = 0; const cur = { p: 0 };'];
  const defaults = cmd.fields.map((f) => `${f.name}: ${f.kind === 'octets' ? 'h.EMPTY' : f.kind.endsWith('s') ? '[]' : JSON.stringify(f.default)}`);
  const head = `command: ${JSON.stringify(cmd.name)}, command_status: status, sequence_number: seq`;
  if (cmd.isResponse && cmd.fields.length > 0) {
    // A response may come without a body (most peers send none with an error status).
    lines.push(`if (p === end) return { ${head}, ${defaults.join(', ')}, tlvs: undefined };`);
  }
  cmd.fields.forEach((f, i) => {
    const v = `f${i}`;
    const name = JSON.stringify(f.name);
    switch (f.kind) {
      case 'u8':
        lines.push(`if (p >= end) throw h.missing(${name});`, `const ${v} = b[p++];`);
        break;
      case 'u16':
        lines.push(`if (p + 2 > end) throw h.missing(${name});`, `const ${v} = (b[p] << 8) | b[p + 1]; p += 2;`);
        break;
      case 'u32':
        lines.push(`if (p + 4 > end) throw h.missing(${name});`, `const ${v} = b.readUInt32BE(p); p += 4;`);
        break;
      case 'cstring':
        lines.push(
          `e = p; lim = p + ${f.max}; if (lim > end) lim = end;`,
          `while (e < lim && b[e] !== 0) e++;`,
          `if (e === lim) throw h.badCString(${name}, e - p, ${f.max}, ${f.status}, lim === end);`,
        );
        if (f.exact) {
          lines.push(`if (${f.exact.map((x) => `e - p !== ${x}`).join(' && ')}) throw h.badLength(${name}, e - p, ${JSON.stringify(f.exact)}, ${f.status});`);
        }
        lines.push(`const ${v} = e === p ? '' : b.latin1Slice(p, e); p = e + 1;`);
        break;
      case 'octets':
        lines.push(
          `if (p >= end) throw h.missing(${name});`,
          `n = b[p++];`,
          `if (n > ${f.max}) throw h.badValue(${name}, 'length ' + n + ', at most ${f.max}', ${f.status});`,
          `if (p + n > end) throw h.missing(${name});`,
          `const ${v} = b.subarray(p, p + n); p += n;`,
        );
        break;
      case 'dest_addresses':
      case 'unsuccess_smes': {
        const fn = f.kind === 'dest_addresses' ? 'readDestAddresses' : 'readUnsuccess';
        lines.push(`cur.p = p; const ${v} = h.${fn}(b, cur, end, defs[${i}]); p = cur.p;`);
        break;
      }
    }
  });
  const body = cmd.fields.map((f, i) => `${f.name}: f${i}`);
  lines.push(`return { ${[head, ...body, 'tlvs: p < end ? h.readTlvs(b, p, end) : undefined'].join(', ')} };`);
  return build(cmd, `return function decode_${cmd.name}(b, p, end, status, seq) {\n${lines.join('\n')}\n};`);
}

function compileEncoder(cmd: CommandDef): Encoder {
  const lines: string[] = [
    `if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) throw h.badValue('command_status', String(status), h.ESME_RINVCMDLEN);`,
    `if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) throw h.badValue('sequence_number', String(seq), h.ESME_RINVCMDLEN);`,
  ];
  const omitOnError = cmd.isResponse && !BODY_ON_ERROR.has(cmd.name);
  const writes: string[] = [];
  lines.push(`let size = ${16 + cmd.fields.filter((f) => f.kind in INT_MAX).reduce((s, f) => s + (f.kind === 'u8' ? 1 : f.kind === 'u16' ? 2 : 4), 0)};`);
  cmd.fields.forEach((f, i) => {
    const v = `f${i}`;
    const name = JSON.stringify(f.name);
    switch (f.kind) {
      case 'u8':
      case 'u16':
      case 'u32':
        lines.push(
          `const ${v} = m.${f.name} ?? ${f.default};`,
          `if (!(${v} >= 0 && ${v} <= ${INT_MAX[f.kind]} && Number.isInteger(${v}))) throw h.badValue(${name}, ${v} + ' is not an integer in 0..${INT_MAX[f.kind]}', ${f.status});`,
        );
        writes.push(f.kind === 'u8' ? `b[p++] = ${v};` : f.kind === 'u16' ? `b.writeUInt16BE(${v}, p); p += 2;` : `b.writeUInt32BE(${v}, p); p += 4;`);
        break;
      case 'cstring':
        lines.push(
          `const ${v} = m.${f.name} ?? ${JSON.stringify(f.default)};`,
          `if (typeof ${v} !== 'string') throw h.badValue(${name}, 'must be a string', ${f.status});`,
          `if (${v}.length > ${f.max - 1}) throw h.badValue(${name}, 'longer than ${f.max - 1} characters', ${f.status});`,
        );
        if (f.exact)
          lines.push(
            `if (${f.exact.map((x) => `${v}.length !== ${x}`).join(' && ')}) throw h.badLength(${name}, ${v}.length, ${JSON.stringify(f.exact)}, ${f.status});`,
          );
        lines.push(`size += ${v}.length + 1;`);
        writes.push(`p = h.writeCString(b, p, ${v}, ${name}, ${f.status});`);
        break;
      case 'octets':
        lines.push(
          `const ${v} = m.${f.name} ?? h.EMPTY;`,
          `if (!(${v} instanceof Uint8Array)) throw h.badValue(${name}, 'must be a Buffer', ${f.status});`,
          `if (${v}.length > ${f.max}) throw h.badValue(${name}, 'length ' + ${v}.length + ', at most ${f.max}', ${f.status});`,
          `size += ${v}.length + 1;`,
        );
        writes.push(`b[p++] = ${v}.length; b.set(${v}, p); p += ${v}.length;`);
        break;
      case 'dest_addresses':
        lines.push(`const ${v} = m.${f.name} ?? []; size += h.destAddressesSize(${v}, defs[${i}]);`);
        writes.push(`p = h.writeDestAddresses(b, p, ${v});`);
        break;
      case 'unsuccess_smes':
        lines.push(`const ${v} = m.${f.name} ?? []; size += h.unsuccessSize(${v}, defs[${i}]);`);
        writes.push(`p = h.writeUnsuccess(b, p, ${v});`);
        break;
    }
  });
  lines.push('const tlvs = m.tlvs; if (tlvs !== undefined && tlvs.length > 0) size += h.tlvsSize(tlvs);');
  const header = `b.writeUInt32BE(size, 0); b.writeUInt32BE(${cmd.id}, 4); b.writeUInt32BE(status, 8); b.writeUInt32BE(seq, 12);`;
  if (omitOnError) {
    // The spec has no body on these error responses (SMPP 3.4 §4).
    lines.splice(2, 0, `if (status !== 0) { const b = Buffer.allocUnsafe(16); const size = 16; ${header} return b; }`);
  }
  lines.push(
    'const b = Buffer.allocUnsafe(size); let p = 16;',
    header,
    ...writes,
    'if (tlvs !== undefined && tlvs.length > 0) p = h.writeTlvs(b, p, tlvs);',
    'return b;',
  );
  return build(cmd, `return function encode_${cmd.name}(m, status, seq) {\n${lines.join('\n')}\n};`);
}

function build<T>(cmd: CommandDef, source: string): T {
  for (const f of cmd.fields) if (!IDENT.test(f.name)) throw new Error(`unsafe field name ${f.name}`);
  if (!IDENT.test(cmd.name)) throw new Error(`unsafe command name ${cmd.name}`);
  return new Function('h', 'defs', source)(helpers, cmd.fields) as T;
}

const decoders = new Map<number, Decoder>();
const encoders = new Map<string, Encoder>();
for (const cmd of COMMANDS.values()) {
  decoders.set(cmd.id, compileDecoder(cmd));
  encoders.set(cmd.name, compileEncoder(cmd));
}

// ---- public API -------------------------------------------------------------------------------

/**
 * Decodes the PDU that starts at `start`. The buffer must hold the whole PDU (the framer sees to
 * it). Byte fields (short_message, TLV values) are views into `buf`, not copies.
 * Throws PduError naming the field; `commandId`/`sequenceNumber` are set when the header was read.
 */
export function decode(buf: Buffer, start = 0, maxSize = DEFAULT_MAX_PDU_SIZE): Pdu {
  if (buf.length - start < HEADER_SIZE) throw new PduError(ESME_RINVCMDLEN, `${buf.length - start} bytes cannot hold a PDU header`, 'command_length');
  const len = buf.readUInt32BE(start);
  const id = buf.readUInt32BE(start + 4);
  const status = buf.readUInt32BE(start + 8);
  const seq = buf.readUInt32BE(start + 12);
  let err: PduError | undefined;
  if (len < HEADER_SIZE || len > maxSize) err = new PduError(ESME_RINVCMDLEN, `${len} is outside ${HEADER_SIZE}..${maxSize}`, 'command_length');
  else if (buf.length - start < len) err = new PduError(ESME_RINVCMDLEN, `${len} is more than the ${buf.length - start} bytes given`, 'command_length');
  const decoder = decoders.get(id);
  if (err === undefined && decoder === undefined)
    err = new PduError(ESME_RINVCMDID, `0x${id.toString(16).padStart(8, '0')} is not an SMPP command`, 'command_id');
  if (err === undefined) {
    try {
      return decoder!(buf, start + HEADER_SIZE, start + len, status, seq);
    } catch (e) {
      if (!(e instanceof PduError)) throw e;
      err = e;
    }
  }
  err.commandId = id;
  err.sequenceNumber = seq;
  throw err;
}

/** Encodes a PDU. Missing body fields take their defaults; invalid values throw PduError. */
export function encode<C extends CommandName>(pdu: PduInput<C> | PduOf<C>): Buffer {
  const encoder = encoders.get(pdu.command);
  if (encoder === undefined) throw new PduError(ESME_RINVCMDID, `${String(pdu.command)} is not an SMPP command`, 'command');
  return encoder(pdu, pdu.command_status ?? 0, pdu.sequence_number);
}

/**
 * Encodes `body` as a `command` PDU with the given header values; the body's own command,
 * status and sequence number (if any) are ignored. Use it instead of `encode({ ...body, … })`:
 * spreading a PDU into a new literal gives V8 a new object shape each time, which made encoding
 * several times slower (see docs/benchmarks.md).
 */
export function encodeAs(command: CommandName, sequenceNumber: number, status: number, body: object): Buffer {
  const encoder = encoders.get(command);
  if (encoder === undefined) throw new PduError(ESME_RINVCMDID, `${String(command)} is not an SMPP command`, 'command');
  return encoder(body, status, sequenceNumber);
}
