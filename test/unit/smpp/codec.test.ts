// The codec's strict validation: every malformed PDU is refused with a PduError that names the
// field and carries the command_status to answer with (and the header's command_id and
// sequence_number when the header was readable); every command round-trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PduError, SmppError } from '../../../src/smpp/errors.js';
import { DEFAULT_MAX_PDU_SIZE, HEADER_SIZE, decode, encode } from '../../../src/smpp/codec.js';
import { BODY_ON_ERROR, COMMANDS, Status, type CommandDef } from '../../../src/smpp/defs.js';
import type { CommandName, Pdu, PduInput } from '../../../src/smpp/pdu.js';
import { ALL_COMMANDS, randomPdu, seededRandom } from '../../helpers/random-pdu.js';

const S = Status;
const commandId = (name: string): number => COMMANDS.get(name)!.id;

interface Expect {
  status: number;
  field: string | undefined;
  commandId?: number | undefined;
  sequenceNumber?: number | undefined;
}

/** Asserts that `fn` throws a PduError with exactly these properties. */
function throwsPdu(fn: () => unknown, want: Expect, message?: string): PduError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PduError, `${message ?? ''}: expected a PduError, got ${String(caught)}`);
  assert.ok(caught instanceof SmppError);
  assert.equal(caught.code, 'SMPP_INVALID_PDU');
  const got: Expect = { status: caught.status, field: caught.field };
  if ('commandId' in want) got.commandId = caught.commandId;
  if ('sequenceNumber' in want) got.sequenceNumber = caught.sequenceNumber;
  assert.deepEqual(got, want, `${message ?? ''}: ${caught.message}`);
  return caught;
}

function def(name: string): CommandDef {
  const d = COMMANDS.get(name);
  assert.ok(d, name);
  return d;
}

/** A PDU from raw parts: header, then the body; command_length is set unless given. */
function raw(id: number, seq: number, body: Buffer, status = 0, length?: number): Buffer {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32BE(length ?? b.length, 0);
  b.writeUInt32BE(id, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  body.copy(b, 16);
  return b;
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'latin1');

/** Sets command_length to the buffer's length. */
function fixLength(b: Buffer): Buffer {
  b.writeUInt32BE(b.length, 0);
  return b;
}

function withTail(pdu: Buffer, tail: Buffer): Buffer {
  return fixLength(Buffer.concat([pdu, tail]));
}

const SUBMIT: PduInput<'submit_sm'> = {
  command: 'submit_sm',
  sequence_number: 0x01020304,
  service_type: 'CMT',
  source_addr_ton: 5,
  source_addr_npi: 0,
  source_addr: 'ACME',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900123',
  esm_class: 0,
  protocol_id: 0,
  priority_flag: 1,
  schedule_delivery_time: '251121103000000+',
  validity_period: '000001000000000R',
  registered_delivery: 1,
  replace_if_present_flag: 0,
  data_coding: 0,
  sm_default_msg_id: 0,
  short_message: Buffer.from('hello world'),
};

// ---- header / command_length ------------------------------------------------------------------

test('command_length below 16 or above the maximum is ESME_RINVCMDLEN naming command_length', () => {
  const id = commandId('enquire_link');
  for (const len of [0, 1, 4, 15]) {
    throwsPdu(
      () => decode(raw(id, 42, Buffer.alloc(0), 0, len)),
      { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: id, sequenceNumber: 42 },
      `len ${len}`,
    );
  }
  const big = Buffer.alloc(DEFAULT_MAX_PDU_SIZE + 1);
  fixLength(big).writeUInt32BE(id, 4);
  big.writeUInt32BE(7, 12);
  throwsPdu(() => decode(big), { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: id, sequenceNumber: 7 });
  throwsPdu(() => decode(raw(id, 7, Buffer.alloc(0), 0, 0x80000000)), { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: id, sequenceNumber: 7 });
  // The maximum is decode's third argument; exactly the maximum is fine.
  const p = encode({ ...SUBMIT });
  assert.equal(decode(p, 0, p.length).command, 'submit_sm');
  throwsPdu(() => decode(p, 0, p.length - 1), { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: 4, sequenceNumber: 0x01020304 });
  const atMax = encode({ command: 'data_sm', sequence_number: 1, tlvs: [{ tag: 0x0424, value: Buffer.alloc(DEFAULT_MAX_PDU_SIZE - 16 - 10 - 4) }] });
  assert.equal(atMax.length, DEFAULT_MAX_PDU_SIZE);
  assert.equal(decode(atMax).command, 'data_sm');
});

test('a buffer shorter than its command_length, or than a header, is ESME_RINVCMDLEN', () => {
  const p = encode({ ...SUBMIT });
  throwsPdu(() => decode(p.subarray(0, p.length - 1)), { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: 4, sequenceNumber: 0x01020304 });
  // No readable header: nothing to answer.
  throwsPdu(() => decode(p.subarray(0, 15)), { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: undefined, sequenceNumber: undefined });
  throwsPdu(() => decode(Buffer.alloc(0)), { status: S.ESME_RINVCMDLEN, field: 'command_length', commandId: undefined, sequenceNumber: undefined });
});

test('an unknown command_id is ESME_RINVCMDID naming command_id', () => {
  for (const id of [0x00000000, 0x00000099, 0x80000099, 0x00000104, 0xffffffff]) {
    throwsPdu(
      () => decode(raw(id, 11, Buffer.alloc(0))),
      { status: S.ESME_RINVCMDID, field: 'command_id', commandId: id, sequenceNumber: 11 },
      `0x${id.toString(16)}`,
    );
  }
  throwsPdu(() => encode({ command: 'no_such_command' as CommandName, sequence_number: 1 }), { status: S.ESME_RINVCMDID, field: 'command' });
});

test('decode reads the PDU at `start` and ignores the bytes after command_length', () => {
  const p = encode({ ...SUBMIT });
  const buf = Buffer.concat([Buffer.from('junk'), p, Buffer.from([1, 2, 3])]);
  const d = decode(buf, 4) as PduInput<'submit_sm'>;
  assert.deepEqual(d, { ...SUBMIT, command_status: 0, tlvs: undefined });
  // Byte fields are views into the buffer, not copies.
  assert.equal(d.short_message!.buffer, buf.buffer);
  // An error names its PDU's header even at an offset.
  const bad = Buffer.concat([Buffer.alloc(3), raw(0x99, 5, Buffer.alloc(0))]);
  throwsPdu(() => decode(bad, 3), { status: S.ESME_RINVCMDID, field: 'command_id', commandId: 0x99, sequenceNumber: 5 });
});

// ---- C-octet strings --------------------------------------------------------------------------

/** [command, field, max size with NUL, status]: one case per field class of SMPP-FACTS.md. */
const CSTRING_CASES: [CommandName, string, number, number][] = [
  ['bind_transmitter', 'system_id', 16, S.ESME_RINVSYSID],
  ['bind_receiver_resp', 'system_id', 16, S.ESME_RINVSYSID],
  ['bind_receiver', 'password', 9, S.ESME_RINVPASWD],
  ['outbind', 'password', 9, S.ESME_RINVPASWD],
  ['bind_transceiver', 'system_type', 13, S.ESME_RINVSYSTYP],
  ['bind_transmitter', 'address_range', 41, S.ESME_RINVCMDLEN],
  ['submit_sm', 'service_type', 6, S.ESME_RINVSERTYP],
  ['cancel_sm', 'service_type', 6, S.ESME_RINVSERTYP],
  ['submit_sm', 'source_addr', 21, S.ESME_RINVSRCADR],
  ['deliver_sm', 'destination_addr', 21, S.ESME_RINVDSTADR],
  ['replace_sm', 'source_addr', 21, S.ESME_RINVSRCADR],
  ['data_sm', 'source_addr', 65, S.ESME_RINVSRCADR],
  ['data_sm', 'destination_addr', 65, S.ESME_RINVDSTADR],
  ['alert_notification', 'esme_addr', 65, S.ESME_RINVDSTADR],
  // A carrier's id is read whole up to 255 characters (SMPP says 64): see src/smpp/defs.ts.
  ['submit_sm_resp', 'message_id', 256, S.ESME_RINVMSGID],
  ['query_sm', 'message_id', 65, S.ESME_RINVMSGID],
  ['submit_multi_resp', 'message_id', 256, S.ESME_RINVMSGID],
];

/** The wire bytes of `command` with `field` holding `len` '#' characters (the limit is bypassed). */
function withLongField(command: CommandName, field: string, len: number, seq: number): Buffer {
  const max = def(command).fields.find((f) => f.name === field)!.max;
  const base = encode({ command, sequence_number: seq, [field]: '#'.repeat(max - 1) } as PduInput);
  const at = base.indexOf('#'.repeat(max - 1));
  assert.ok(at >= 16);
  return fixLength(Buffer.concat([base.subarray(0, at), Buffer.alloc(len, '#'), base.subarray(at + max - 1)]));
}

test('a C-octet string longer than its maximum is refused with the field and its status (decode)', () => {
  for (const [command, field, max, status] of CSTRING_CASES) {
    assert.equal(def(command).fields.find((f) => f.name === field)?.max, max, `${command}.${field} max`);
    const id = commandId(command);
    // max - 1 characters + NUL: fine.
    const ok = decode(withLongField(command, field, max - 1, 3)) as unknown as Record<string, unknown>;
    assert.equal(ok[field], '#'.repeat(max - 1));
    // One more, and far more: refused.
    for (const len of [max, max + 40]) {
      throwsPdu(() => decode(withLongField(command, field, len, 3)), { status, field, commandId: id, sequenceNumber: 3 }, `${command}.${field} ${len}`);
    }
  }
});

test('a C-octet string longer than its maximum is refused with the field and its status (encode)', () => {
  for (const [command, field, max, status] of CSTRING_CASES) {
    const at = (len: number): unknown => encode({ command, sequence_number: 1, [field]: 'x'.repeat(len) } as PduInput);
    assert.ok(Buffer.isBuffer(at(max - 1)));
    throwsPdu(() => at(max), { status, field }, `${command}.${field}`);
  }
});

test('a C-octet string cut off by the end of the body (no NUL) is ESME_RINVCMDLEN naming the field', () => {
  // The last field, partly there.
  throwsPdu(() => decode(raw(commandId('submit_sm_resp'), 9, Buffer.from('abc'))), {
    status: S.ESME_RINVCMDLEN,
    field: 'message_id',
    commandId: 0x80000004,
    sequenceNumber: 9,
  });
  // A first field, partly there.
  throwsPdu(() => decode(raw(commandId('bind_transmitter'), 9, Buffer.from('esme'))), {
    status: S.ESME_RINVCMDLEN,
    field: 'system_id',
    commandId: 2,
    sequenceNumber: 9,
  });
  // A middle field, not there at all.
  throwsPdu(() => decode(raw(commandId('bind_transmitter'), 9, cstr('esme'))), {
    status: S.ESME_RINVCMDLEN,
    field: 'password',
    commandId: 2,
    sequenceNumber: 9,
  });
  // All 15 characters there, the body ends where the NUL belongs: still cut off.
  throwsPdu(() => decode(raw(commandId('bind_transmitter'), 9, Buffer.alloc(15, 'a'))), {
    status: S.ESME_RINVCMDLEN,
    field: 'system_id',
    commandId: 2,
    sequenceNumber: 9,
  });
  // 16 bytes without a NUL are too long, whether the body ends there or not: the field's own status.
  throwsPdu(() => decode(raw(commandId('bind_transmitter'), 9, Buffer.alloc(16, 'a'))), {
    status: S.ESME_RINVSYSID,
    field: 'system_id',
    commandId: 2,
    sequenceNumber: 9,
  });
  throwsPdu(() => decode(raw(commandId('bind_transmitter'), 9, Buffer.alloc(30, 'a'))), {
    status: S.ESME_RINVSYSID,
    field: 'system_id',
    commandId: 2,
    sequenceNumber: 9,
  });
});

test('the time fields must be empty or 16 characters (decode and encode)', () => {
  const cases: [CommandName, string, number][] = [
    ['submit_sm', 'schedule_delivery_time', S.ESME_RINVSCHED],
    ['submit_sm', 'validity_period', S.ESME_RINVEXPIRY],
    ['submit_multi', 'schedule_delivery_time', S.ESME_RINVSCHED],
    ['deliver_sm', 'validity_period', S.ESME_RINVEXPIRY],
    ['replace_sm', 'schedule_delivery_time', S.ESME_RINVSCHED],
    ['query_sm_resp', 'final_date', S.ESME_RINVCMDLEN],
  ];
  for (const [command, field, status] of cases) {
    for (const value of ['', '251121103000000+', '000001000000000R']) {
      const d = decode(encode({ command, sequence_number: 1, [field]: value } as PduInput)) as unknown as Record<string, unknown>;
      assert.equal(d[field], value);
    }
    for (const len of [1, 12, 15, 17]) {
      throwsPdu(() => encode({ command, sequence_number: 1, [field]: '0'.repeat(len) } as PduInput), { status, field }, `${command}.${field} ${len}`);
    }
    for (const len of [1, 12, 15]) {
      const ok = encode({ command, sequence_number: 6, [field]: '251121103000000+' } as PduInput);
      const at = ok.indexOf('251121103000000+');
      const bad = fixLength(Buffer.concat([ok.subarray(0, at), Buffer.alloc(len, '1'), ok.subarray(at + 16)]));
      throwsPdu(() => decode(bad), { status, field, commandId: commandId(command), sequenceNumber: 6 }, `${command}.${field} ${len}`);
    }
    // 17 characters: no NUL within 17 bytes, too long.
    const ok = encode({ command, sequence_number: 6, [field]: '251121103000000+' } as PduInput);
    const at = ok.indexOf('251121103000000+');
    const long = fixLength(Buffer.concat([ok.subarray(0, at), Buffer.from('2'), ok.subarray(at)]));
    throwsPdu(() => decode(long), { status, field, commandId: commandId(command), sequenceNumber: 6 });
  }
});

test('Latin-1 text is carried byte for byte; characters beyond U+00FF and NUL cannot be encoded', () => {
  const text = 'Zürich ÿ\u00a0~';
  const d = decode(encode({ command: 'submit_sm', sequence_number: 1, source_addr: text })) as PduInput<'submit_sm'>;
  assert.equal(d.source_addr, text);
  throwsPdu(() => encode({ command: 'submit_sm', sequence_number: 1, source_addr: 'Ω' }), { status: S.ESME_RINVSRCADR, field: 'source_addr' });
  throwsPdu(() => encode({ command: 'submit_sm', sequence_number: 1, destination_addr: '😀' }), { status: S.ESME_RINVDSTADR, field: 'destination_addr' });
  throwsPdu(() => encode({ command: 'bind_transmitter', sequence_number: 1, system_id: 'a\0b' }), { status: S.ESME_RINVSYSID, field: 'system_id' });
  throwsPdu(() => encode({ command: 'bind_transmitter', sequence_number: 1, password: 42 as unknown as string }), {
    status: S.ESME_RINVPASWD,
    field: 'password',
  });
});

// ---- truncation and trailing bytes ------------------------------------------------------------

test('a body cut at any point is ESME_RINVCMDLEN naming the first field it lacks', () => {
  const full = encode({ ...SUBMIT });
  // Where each field starts and ends.
  const spans: { name: string; from: number; to: number }[] = [];
  let p = 16;
  for (const f of def('submit_sm').fields) {
    const v = (SUBMIT as unknown as Record<string, unknown>)[f.name];
    const size = f.kind === 'cstring' ? (v as string).length + 1 : f.kind === 'octets' ? (v as Buffer).length + 1 : 1;
    spans.push({ name: f.name, from: p, to: p + size });
    p += size;
  }
  assert.equal(p, full.length);
  for (let cut = 16; cut < full.length; cut++) {
    const b = Buffer.from(full.subarray(0, cut));
    fixLength(b);
    const field = spans.find((s) => cut >= s.from && cut < s.to)!.name;
    throwsPdu(() => decode(b), { status: S.ESME_RINVCMDLEN, field, commandId: 4, sequenceNumber: 0x01020304 }, `cut at ${cut}`);
  }
  assert.equal(decode(full).command, 'submit_sm');
});

test('1 to 3 bytes left over after the body are ESME_RINVTLVSTREAM naming tlvs', () => {
  const base = encode({ ...SUBMIT });
  for (const n of [1, 2, 3]) {
    throwsPdu(
      () => decode(withTail(base, Buffer.alloc(n))),
      { status: S.ESME_RINVTLVSTREAM, field: 'tlvs', commandId: 4, sequenceNumber: 0x01020304 },
      `${n} bytes`,
    );
  }
  // …also after a good TLV, and on a command without a body.
  throwsPdu(() => decode(withTail(base, Buffer.from('020b0002000100', 'hex'))), {
    status: S.ESME_RINVTLVSTREAM,
    field: 'tlvs',
    commandId: 4,
    sequenceNumber: 0x01020304,
  });
  throwsPdu(() => decode(raw(0x15, 8, Buffer.from([0, 0]))), { status: S.ESME_RINVTLVSTREAM, field: 'tlvs', commandId: 0x15, sequenceNumber: 8 });
  // 4 bytes are a TLV of length 0: fine.
  assert.deepEqual(decode(withTail(base, Buffer.from('14000000', 'hex'))).tlvs, [{ tag: 0x1400, value: Buffer.alloc(0) }]);
});

test('a TLV whose length runs past the end is ESME_RINVTLVLEN naming the TLV', () => {
  const base = encode({ ...SUBMIT });
  throwsPdu(() => decode(withTail(base, Buffer.from('0424000a0102', 'hex'))), {
    status: S.ESME_RINVTLVLEN,
    field: 'message_payload',
    commandId: 4,
    sequenceNumber: 0x01020304,
  });
  throwsPdu(() => decode(withTail(base, Buffer.from('14000001', 'hex'))), {
    status: S.ESME_RINVTLVLEN,
    field: 'tlv 0x1400',
    commandId: 4,
    sequenceNumber: 0x01020304,
  });
  throwsPdu(() => decode(withTail(base, Buffer.from('020b00020001' + '1234ffff', 'hex'))), {
    status: S.ESME_RINVTLVLEN,
    field: 'tlv 0x1234',
    commandId: 4,
    sequenceNumber: 0x01020304,
  });
});

test('a known TLV of the wrong size or form is refused naming it', () => {
  const base = encode({ command: 'deliver_sm', sequence_number: 12 });
  const cases: [string, number, string][] = [
    ['020b000101', S.ESME_RINVTLVLEN, 'dest_port'], // u16 in 1 byte
    ['020b0003000000', S.ESME_RINVTLVLEN, 'dest_port'],
    ['04270002 0102', S.ESME_RINVTLVLEN, 'message_state'], // u8 in 2 bytes
    ['04270000', S.ESME_RINVTLVLEN, 'message_state'],
    ['00170003 000000', S.ESME_RINVTLVLEN, 'qos_time_to_live'], // u32 in 3 bytes
    ['001e0003 616263', S.ESME_RINVTLVVAL, 'receipted_message_id'], // C-string without NUL
    ['001e0000', S.ESME_RINVTLVVAL, 'receipted_message_id'], // not even the NUL
    ['001e0004 61006200', S.ESME_RINVTLVVAL, 'receipted_message_id'], // NUL inside
  ];
  for (const [hex, status, field] of cases) {
    throwsPdu(() => decode(withTail(base, Buffer.from(hex.replace(/ /g, ''), 'hex'))), { status, field, commandId: 5, sequenceNumber: 12 }, hex);
  }
  const good = withTail(base, Buffer.from('020b00020050' + '0427000102' + '001e000461626300' + '0424000568656c6c6f', 'hex'));
  assert.deepEqual(decode(good).tlvs, [
    { tag: 0x020b, value: Buffer.from([0, 0x50]) },
    { tag: 0x0427, value: Buffer.from([2]) },
    { tag: 0x001e, value: Buffer.from('abc\0') },
    { tag: 0x0424, value: Buffer.from('hello') },
  ]);
});

// ---- short_message and lists ------------------------------------------------------------------

test('short_message longer than 254 octets is ESME_RINVMSGLEN (decode and encode)', () => {
  const ok = encode({ ...SUBMIT, short_message: Buffer.alloc(254, 1) });
  assert.equal((decode(ok) as PduInput<'submit_sm'>).short_message?.length, 254);
  const at = ok.length - 254 - 1; // sm_length
  assert.equal(ok[at], 254);
  for (const n of [255]) {
    const bad = fixLength(Buffer.concat([ok.subarray(0, at), Buffer.from([n]), Buffer.alloc(n, 1)]));
    throwsPdu(() => decode(bad), { status: S.ESME_RINVMSGLEN, field: 'short_message', commandId: 4, sequenceNumber: 0x01020304 });
  }
  for (const command of ['submit_sm', 'deliver_sm', 'submit_multi', 'replace_sm'] as const) {
    throwsPdu(() => encode({ command, sequence_number: 1, short_message: Buffer.alloc(255) }), { status: S.ESME_RINVMSGLEN, field: 'short_message' }, command);
    throwsPdu(
      () => encode({ command, sequence_number: 1, short_message: 'text' as unknown as Buffer }),
      { status: S.ESME_RINVMSGLEN, field: 'short_message' },
      command,
    );
  }
  // sm_length beyond the body: truncated.
  const short = fixLength(Buffer.concat([ok.subarray(0, at), Buffer.from([10]), Buffer.alloc(3)]));
  throwsPdu(() => decode(short), { status: S.ESME_RINVCMDLEN, field: 'short_message', commandId: 4, sequenceNumber: 0x01020304 });
  // A Uint8Array is taken as well as a Buffer.
  const u8 = decode(encode({ ...SUBMIT, short_message: new Uint8Array([1, 2, 3]) as Buffer })) as PduInput<'submit_sm'>;
  assert.deepEqual(u8.short_message, Buffer.from([1, 2, 3]));
});

test('submit_multi: number_of_dests, dest_flag and entry strings are checked', () => {
  const one = { dest_flag: 1 as const, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4477' };
  const dl = { dest_flag: 2 as const, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: 'friends' };
  const p: PduInput<'submit_multi'> = { command: 'submit_multi', sequence_number: 21, dest_address: [one, dl, one] };
  const d = decode(encode(p)) as PduInput<'submit_multi'>;
  assert.deepEqual(d.dest_address, [one, dl, one]);
  const max = decode(encode({ ...p, dest_address: Array.from({ length: 254 }, () => dl) })) as PduInput<'submit_multi'>;
  assert.equal(max.dest_address?.length, 254);
  throwsPdu(() => encode({ ...p, dest_address: Array.from({ length: 255 }, () => one) }), { status: S.ESME_RINVNUMDESTS, field: 'dest_address' });
  throwsPdu(() => encode({ ...p, dest_address: [{ ...one, dest_flag: 3 as 1 }] }), { status: S.ESME_RINVDESTFLAG, field: 'dest_flag' });
  throwsPdu(() => encode({ ...p, dest_address: [{ ...one, destination_addr: 'x'.repeat(21) }] }), { status: S.ESME_RINVDSTADR, field: 'destination_addr' });
  throwsPdu(() => encode({ ...p, dest_address: [{ ...dl, destination_addr: 'x'.repeat(21) }] }), { status: S.ESME_RINVDLNAME, field: 'dl_name' });
  throwsPdu(() => encode({ ...p, dest_address: [{ ...one, destination_addr: 5 as unknown as string }] }), {
    status: S.ESME_RINVDSTADR,
    field: 'destination_addr',
  });
  throwsPdu(() => encode({ ...p, dest_address: [{ ...one, dest_addr_ton: 256 }] }), { status: S.ESME_RINVCMDLEN, field: 'dest_addr_ton' });
  throwsPdu(() => encode({ ...p, dest_address: 'x' as unknown as [] }), { status: S.ESME_RINVNUMDESTS, field: 'dest_address' });

  const wire = encode(p);
  const nAt = 16 + 1 + 1 + 1 + 1; // number_of_dests
  assert.equal(wire[nAt], 3);
  const badFlag = Buffer.from(wire);
  badFlag[nAt + 1] = 0;
  throwsPdu(() => decode(badFlag), { status: S.ESME_RINVDESTFLAG, field: 'dest_flag', commandId: 0x21, sequenceNumber: 21 });
  const tooMany = Buffer.from(wire);
  tooMany[nAt] = 255;
  throwsPdu(() => decode(tooMany), { status: S.ESME_RINVNUMDESTS, field: 'number_of_dests', commandId: 0x21, sequenceNumber: 21 });
  const moreThanThere = Buffer.from(wire);
  moreThanThere[nAt] = 200; // runs into the other fields, then off the end
  assert.throws(
    () => decode(moreThanThere),
    (e: unknown) => e instanceof PduError && e.commandId === 0x21,
  );
  const longName = fixLength(
    Buffer.concat([wire.subarray(0, nAt), Buffer.from([1, 2]), Buffer.alloc(25, 'n'), Buffer.from([0]), wire.subarray(wire.length - 10)]),
  );
  throwsPdu(() => decode(longName), { status: S.ESME_RINVDLNAME, field: 'dl_name', commandId: 0x21, sequenceNumber: 21 });
});

test('submit_multi_resp: unsuccess_sme entries round-trip and are checked', () => {
  const u = { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123', error_status_code: 0x0b };
  const p: PduInput<'submit_multi_resp'> = {
    command: 'submit_multi_resp',
    sequence_number: 4,
    message_id: 'm-1',
    unsuccess_sme: [u, { ...u, error_status_code: 0xffffffff }],
  };
  assert.deepEqual(decode(encode(p)), { command_status: 0, tlvs: undefined, ...p });
  throwsPdu(() => encode({ ...p, unsuccess_sme: [{ ...u, error_status_code: 2 ** 32 }] }), { status: S.ESME_RINVCMDLEN, field: 'error_status_code' });
  throwsPdu(() => encode({ ...p, unsuccess_sme: [{ ...u, destination_addr: 'x'.repeat(30) }] }), { status: S.ESME_RINVDSTADR, field: 'destination_addr' });
  throwsPdu(() => encode({ ...p, unsuccess_sme: Array.from({ length: 255 }, () => u) }), { status: S.ESME_RINVNUMDESTS, field: 'unsuccess_sme' });
  const wire = encode(p);
  for (const n of [1, 2, 3, 4]) {
    // In place (bytes follow in the buffer) and copied (the buffer ends with the PDU).
    const cutView = fixLength(Buffer.from(wire).subarray(0, wire.length - n));
    const cutCopy = Buffer.from(cutView);
    for (const b of [cutView, cutCopy]) {
      throwsPdu(() => decode(b), { status: S.ESME_RINVCMDLEN, field: 'error_status_code', commandId: 0x80000021, sequenceNumber: 4 }, `cut ${n}`);
    }
  }
});

// ---- integers, header values, TLVs on encode --------------------------------------------------

test('encode refuses integers out of range, naming the field', () => {
  for (const v of [-1, 256, 1.5, Number.NaN, '1' as unknown as number]) {
    throwsPdu(() => encode({ ...SUBMIT, esm_class: v }), { status: S.ESME_RINVCMDLEN, field: 'esm_class' }, String(v));
  }
  throwsPdu(() => encode({ command: 'query_sm_resp', sequence_number: 1, error_code: 300 }), { status: S.ESME_RINVCMDLEN, field: 'error_code' });
  for (const seq of [-1, 2 ** 32, 0.5, undefined as unknown as number]) {
    throwsPdu(() => encode({ command: 'enquire_link', sequence_number: seq }), { status: S.ESME_RINVCMDLEN, field: 'sequence_number' }, String(seq));
  }
  throwsPdu(() => encode({ command: 'generic_nack', sequence_number: 1, command_status: -1 }), { status: S.ESME_RINVCMDLEN, field: 'command_status' });
  // The extremes are fine.
  const d = decode(encode({ ...SUBMIT, esm_class: 255, sequence_number: 0xffffffff, command_status: 0 }));
  assert.equal(d.sequence_number, 0xffffffff);
});

test('encode refuses bad TLVs, naming them', () => {
  throwsPdu(() => encode({ ...SUBMIT, tlvs: [{ tag: 0x0424, value: Buffer.alloc(0x10000) }] }), { status: S.ESME_RINVTLVLEN, field: 'message_payload' });
  throwsPdu(() => encode({ ...SUBMIT, tlvs: [{ tag: 0x1400, value: 'x' as unknown as Buffer }] }), { status: S.ESME_RINVTLVLEN, field: 'tlv 0x1400' });
  throwsPdu(() => encode({ ...SUBMIT, tlvs: [{ tag: 0x10000, value: Buffer.alloc(1) }] }), { status: S.ESME_RINVTLVVAL, field: 'tlvs' });
  throwsPdu(() => encode({ ...SUBMIT, tlvs: [{ tag: -1, value: Buffer.alloc(1) }] }), { status: S.ESME_RINVTLVVAL, field: 'tlvs' });
  const max = encode({ ...SUBMIT, tlvs: [{ tag: 0x0424, value: Buffer.alloc(0xffff, 7) }] });
  assert.equal(decode(max, 0, max.length).tlvs?.[0]?.value.length, 0xffff);
  // An empty list is no TLVs.
  assert.deepEqual(encode({ ...SUBMIT, tlvs: [] }), encode({ ...SUBMIT }));
});

// ---- error responses --------------------------------------------------------------------------

test('an error response is the header alone (except data_sm_resp and submit_multi_resp); decoding one gives defaults', () => {
  const b = encode({
    command: 'submit_sm_resp',
    sequence_number: 99,
    command_status: S.ESME_RTHROTTLED,
    message_id: 'ignored',
    tlvs: [{ tag: 0x001d, value: Buffer.from('x\0') }],
  });
  assert.equal(b.length, HEADER_SIZE);
  assert.deepEqual([b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)], [16, 0x80000004, S.ESME_RTHROTTLED, 99]);
  assert.deepEqual(decode(b), { command: 'submit_sm_resp', command_status: S.ESME_RTHROTTLED, sequence_number: 99, message_id: '', tlvs: undefined });

  for (const d of COMMANDS.values()) {
    if (!d.isResponse) continue;
    const name = d.name as CommandName;
    const err = encode({ command: name, sequence_number: 5, command_status: S.ESME_RSYSERR });
    const expected: Record<string, unknown> = { command: name, command_status: S.ESME_RSYSERR, sequence_number: 5 };
    for (const f of d.fields) expected[f.name] = f.kind === 'cstring' ? '' : f.kind === 'unsuccess_smes' ? [] : 0;
    expected.tlvs = undefined;
    if (!BODY_ON_ERROR.has(name)) assert.equal(err.length, HEADER_SIZE, name);
    assert.deepEqual(decode(err), expected, name);
    // A peer's 16-byte error response decodes the same for every response.
    assert.deepEqual(decode(raw(d.id, 5, Buffer.alloc(0), S.ESME_RSYSERR)), expected, name);
    // A success response may come without a body too.
    assert.deepEqual(decode(raw(d.id, 5, Buffer.alloc(0))), { ...expected, command_status: 0 }, name);
  }
  // A body on an error response is read when present.
  const withBody = raw(0x80000004, 6, cstr('abc'), S.ESME_RSYSERR);
  assert.deepEqual(decode(withBody), { command: 'submit_sm_resp', command_status: S.ESME_RSYSERR, sequence_number: 6, message_id: 'abc', tlvs: undefined });
});

// ---- round trips ------------------------------------------------------------------------------

test('every command round-trips: minimal (defaults filled in) and 50 random PDUs each', () => {
  const rand = seededRandom(20251121);
  let n = 0;
  for (const command of ALL_COMMANDS) {
    const d = def(command);
    const minimal = decode(encode({ command, sequence_number: 1 })) as Pdu;
    const expected: Record<string, unknown> = { command, command_status: 0, sequence_number: 1 };
    for (const f of d.fields)
      expected[f.name] = f.kind === 'octets' ? Buffer.alloc(0) : f.kind === 'dest_addresses' || f.kind === 'unsuccess_smes' ? [] : f.default;
    expected.tlvs = undefined;
    assert.deepEqual(minimal, expected, command);
    if (command.startsWith('bind_') && !d.isResponse) assert.equal((minimal as Record<string, unknown>).interface_version, 0x34);
    for (let i = 0; i < 50; i++) {
      const p = randomPdu(rand, command);
      const wire = encode(p);
      assert.equal(wire.readUInt32BE(0), wire.length);
      assert.equal(wire.readUInt32BE(4), d.id);
      const back = decode(wire);
      assert.deepEqual(back, p, `${command} #${i}`);
      assert.deepEqual(encode(back), wire, `${command} #${i} re-encoded`);
      n++;
    }
  }
  assert.equal(n, ALL_COMMANDS.length * 50);
});
