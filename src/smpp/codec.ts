// PDU ⇄ Buffer. For each command the field table from defs.ts is compiled once, at load time, into
// straight-line decode and encode functions (as protobufjs does): a generic field loop with keyed
// property stores runs several times slower, and the codec sits on every message's path.
// Text fields are Latin-1 (byte ⇄ char, lossless); short_message and TLV values stay raw bytes.
import { FIELD_IO } from './codec-fields.js';
import { PduError } from './errors.js';
import { BODY_ON_ERROR, COMMANDS, ESME_RINVCMDID, ESME_RINVCMDLEN, type CommandDef } from './defs.js';
import type { CommandName, Pdu, PduInput, PduOf } from './pdu.js';

export const HEADER_SIZE = 16;
export const DEFAULT_MAX_PDU_SIZE = 64 * 1024;

type Decoder = (b: Buffer, p: number, end: number, status: number, seq: number) => Pdu;
type Encoder = (m: object, status: number, seq: number) => Buffer;

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
  return new Function('h', 'defs', source)(FIELD_IO, cmd.fields) as T;
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
