// The runtime of the compiled codec (codec.ts): reading and writing the field kinds that are more
// than one store (C-octet strings, address lists, TLVs) and the errors that name a bad field. The
// compiled functions call these through FIELD_IO.
import {
  ESME_RINVCMDLEN,
  ESME_RINVDESTFLAG,
  ESME_RINVDLNAME,
  ESME_RINVDSTADR,
  ESME_RINVTLVLEN,
  ESME_RINVTLVSTREAM,
  ESME_RINVTLVVAL,
  TLVS_BY_TAG,
  type FieldDef,
} from './defs.js';
import { PduError } from './errors.js';
import type { DestAddress, Tlv, UnsuccessSme } from './pdu.js';

export const EMPTY = Buffer.alloc(0);

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

/** What the compiled decode and encode functions call (as `h.name`). */
export const FIELD_IO = {
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
