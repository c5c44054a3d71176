// Differential test of our codec against the `smpp` package (0.5.1), the project's SMPP oracle.
//
// For every command in the tables, seeded random PDUs (test/helpers/random-pdu.ts) go both ways:
//   ours → bytes → smpp decodes them;   smpp → bytes → we decode them;   the bytes are compared.
// Where smpp is wrong or lossy (and we differ on purpose), the main loop compares only what smpp
// carries faithfully, and a named test below asserts the difference and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import smpp, { type SmppPdu } from 'smpp';
import { decode, encode } from '../../../src/smpp/codec.js';
import { BODY_ON_ERROR, COMMANDS, Status, TLVS, TLVS_BY_TAG, type CommandDef } from '../../../src/smpp/defs.js';
import type { DestAddress, Pdu, PduInput, Tlv } from '../../../src/smpp/pdu.js';
import { PduError } from '../../../src/smpp/errors.js';
import { ALL_COMMANDS, randomPdu, seededRandom, smppTlvValue, toSmppOptions } from '../../helpers/random-pdu.js';

const PER_COMMAND = 300;
const HEADER_KEYS = new Set(['command_length', 'command_id', 'command_status', 'sequence_number', 'command']);
const TIME_FIELDS = new Set(['schedule_delivery_time', 'validity_period', 'final_date']);

type Fields = Record<string, unknown>;

function smppEncode(p: PduInput): Buffer {
  return new smpp.PDU(p.command, toSmppOptions(p)).toBuffer();
}

/** smpp's public decode (with its filters: times become Dates, messages text). */
function smppDecode(b: Buffer): SmppPdu {
  return new smpp.PDU(b);
}

const proto = (smpp.PDU as unknown as { prototype: { _filter(this: unknown, fn: string): void } }).prototype;

/** smpp's wire layer alone: its decode with the value filters switched off. */
function smppDecodeRaw(b: Buffer): SmppPdu {
  const filter = proto._filter;
  proto._filter = function noFilter() {};
  try {
    return new smpp.PDU(b);
  } finally {
    proto._filter = filter;
  }
}

/** The body fields and TLVs of a decoded smpp PDU, as a plain object. */
function smppFields(d: SmppPdu): Fields {
  return Object.fromEntries(Object.entries(d).filter(([k]) => !HEADER_KEYS.has(k)));
}

function def(name: string): CommandDef {
  const d = COMMANDS.get(name);
  assert.ok(d, name);
  return d;
}

/** `p` without its body: what an error response without a body decodes to. */
function bodyless(p: PduInput): Pdu {
  const out: Fields = { command: p.command, command_status: p.command_status ?? 0, sequence_number: p.sequence_number };
  for (const f of def(p.command).fields) {
    out[f.name] = f.kind === 'octets' ? Buffer.alloc(0) : f.kind === 'dest_addresses' || f.kind === 'unsuccess_smes' ? [] : f.default;
  }
  out.tlvs = undefined;
  return out as unknown as Pdu;
}

/**
 * `p` as smpp carries it when given `toSmppOptions(p)`: no body at all on an error status; unknown
 * TLVs dropped, and so is a TLV named like a mandatory field; TLVs grouped by name in order of
 * first appearance (a `multiple` one keeps all its values, any other only its last).
 */
function smppView(p: PduInput): Pdu {
  if ((p.command_status ?? 0) !== 0) return bodyless(p);
  const fieldNames = new Set(def(p.command).fields.map((f) => f.name));
  const groups = new Map<number, Tlv[]>();
  for (const t of p.tlvs ?? []) {
    const tdef = TLVS_BY_TAG.get(t.tag);
    if (tdef === undefined || fieldNames.has(tdef.name)) continue;
    const g = groups.get(t.tag);
    if (g === undefined) groups.set(t.tag, [t]);
    else if (tdef.multiple) g.push(t);
    else g[0] = t;
  }
  const tlvs = [...groups.values()].flat();
  return { ...p, tlvs: tlvs.length > 0 ? tlvs : undefined } as Pdu;
}

/**
 * What smpp's wire layer (filters off) should make of our encoding of `p`: the fields in smpp's
 * shapes (a distribution list is `{ dl_name }`), then each TLV in wire order stored under its name
 * (renamed by the command's tlvMap; a list if `multiple`, else the last one wins) or, unknown, under
 * its numeric tag. smpp stores a TLV named like a mandatory field over that field (query_sm_resp's
 * message_state), so the model does the same.
 */
function expectedSmppFields(p: PduInput, wire: Buffer): Fields {
  const out: Fields = {};
  if (wire.length === 16) return out; // no body: smpp leaves the fields unset
  const src = p as unknown as Fields;
  for (const f of def(p.command).fields) {
    const v = src[f.name];
    if (f.kind === 'dest_addresses') {
      out[f.name] = (v as DestAddress[]).map((d) =>
        d.dest_flag === 2
          ? { dl_name: d.destination_addr }
          : { dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi, destination_addr: d.destination_addr },
      );
    } else {
      out[f.name] = v;
    }
  }
  const tlvMap = smpp.commands[p.command]?.tlvMap ?? {};
  for (const t of p.tlvs ?? []) {
    const tdef = TLVS_BY_TAG.get(t.tag);
    if (tdef === undefined) {
      out[String(t.tag)] = t.value;
      continue;
    }
    const name = tlvMap[tdef.name] ?? tdef.name;
    const value = smppTlvValue(tdef, t.value);
    if (tdef.multiple) ((out[name] ??= []) as unknown[]).push(value);
    else out[name] = value;
  }
  return out;
}

/** The instant smpp's time filter gives an absolute SMPP time (YYMMDDhhmmsstnn±, century of today). */
function absoluteTime(s: string): number {
  const n = (i: number): number => Number(s.slice(i, i + 2));
  const century = Math.floor(new Date().getUTCFullYear() / 100) * 100;
  let t = Date.UTC(century + n(0), n(2) - 1, n(4), n(6), n(8), n(10), Number(s[12]) * 100);
  const quarters = n(13);
  if (quarters !== 0) t += (s[15] === '+' ? -1 : 1) * quarters * 15 * 60_000;
  return t;
}

const counts = { pdus: 0, identicalBytes: 0, canonicalBytes: 0, bodyOnErrorDiffs: 0, smppDecodes: 0, ourDecodes: 0, binaryMessages: 0, times: 0 };

for (const command of ALL_COMMANDS) {
  test(`differential: ${command} × ${PER_COMMAND} random PDUs agree with smpp both ways`, () => {
    const rand = seededRandom(0x5eed ^ def(command).id);
    const fields = def(command).fields;
    const hasShortMessage = fields.some((f) => f.name === 'data_coding');
    for (let i = 0; i < PER_COMMAND; i++) {
      const p = randomPdu(rand, command);
      const src = p as unknown as Fields;
      // Every other PDU with a data_coding: binary (0x04) without UDHI, so that smpp's message
      // filter leaves the bytes alone and they can be compared after its public decode.
      const binary = hasShortMessage && i % 2 === 0;
      if (binary) {
        src.data_coding = 0x04;
        if ('esm_class' in src) src.esm_class = (src.esm_class as number) & ~0x40;
      }
      const where = `${command} #${i}`;
      counts.pdus++;

      // 1. Bytes: ours equal smpp's for what smpp can express.
      const ours = encode(p);
      const theirs = smppEncode(p);
      const view = smppView(p);
      const status = p.command_status ?? 0;
      if (status !== 0 && BODY_ON_ERROR.has(command)) {
        // smpp drops the body of every error response; we keep it here (see the named test).
        assert.equal(theirs.length, 16, where);
        assert.deepEqual(ours.subarray(4, 16), theirs.subarray(4, 16), where);
        counts.bodyOnErrorDiffs++;
      } else {
        assert.deepEqual(encode(view), theirs, where);
        counts.canonicalBytes++;
        if (ours.equals(theirs)) counts.identicalBytes++;
        else assert.notDeepEqual(view, { ...p, tlvs: p.tlvs }, `${where}: bytes differ although smpp can express the PDU`);
      }

      // 2. We decode smpp's bytes back to the values it was given.
      assert.deepEqual(decode(theirs), view, where);
      counts.ourDecodes++;

      // 3. smpp's wire layer decodes our bytes to our values.
      const raw = smppDecodeRaw(ours);
      assert.equal(raw.command, command, where);
      assert.equal(raw.command_length, ours.length, where);
      assert.equal(raw.command_status, status, where);
      assert.equal(raw.sequence_number, p.sequence_number, where);
      assert.deepEqual(smppFields(raw), expectedSmppFields(p, ours), where);
      counts.smppDecodes++;

      // 4. smpp's public decode (filters on): unfiltered values as above; times become Dates at
      //    the same instant (absolute ones); binary messages stay the same bytes.
      if (ours.length === 16) continue;
      const pub = smppDecode(ours);
      const params = smpp.commands[command]?.params ?? {};
      for (const f of fields) {
        const got = pub[f.name];
        const want = src[f.name];
        if (f.name === 'message_state' && p.tlvs?.some((t) => t.tag === 0x0427)) continue; // overwritten, see named test
        if (TIME_FIELDS.has(f.name)) {
          if (want === '') assert.equal(got, '', where);
          else {
            assert.ok(got instanceof Date, `${where} ${f.name}`);
            if (!(want as string).endsWith('R')) assert.equal(got.getTime(), absoluteTime(want as string), `${where} ${f.name} ${String(want)}`);
            counts.times++;
          }
        } else if (f.name === 'short_message') {
          if (!hasShortMessage)
            assert.deepEqual(got, want, where); // replace_sm: no data_coding, no filtering
          else if (binary) {
            assert.deepEqual(got, { message: want }, where);
            counts.binaryMessages++;
          } else assert.ok(typeof got === 'object' && got !== null && 'message' in got, where);
        } else {
          assert.equal(params[f.name]?.filter, undefined, `${where}: unexpected filter on ${f.name}`);
          assert.deepEqual(pub[f.name], raw[f.name], `${where} ${f.name}`);
        }
      }
    }
  });
}

test('differential: totals', () => {
  // Runs after the per-command tests (node:test runs a file's tests in order).
  assert.equal(counts.pdus, ALL_COMMANDS.length * PER_COMMAND);
  assert.ok(counts.identicalBytes > counts.pdus / 2, `identical bytes for ${counts.identicalBytes} of ${counts.pdus}`);
  assert.ok(counts.bodyOnErrorDiffs > 0 && counts.binaryMessages > 0 && counts.times > 0);
  // Shown with --test-reporter=spec; the numbers behind the report.
  console.log(`differential totals: ${JSON.stringify(counts)}`);
});

test('every command and every standard TLV was exercised by the differential', () => {
  const seenTags = new Set<number>();
  const rand = seededRandom(7);
  for (let i = 0; i < 3000; i++) for (const t of randomPdu(rand).tlvs ?? []) seenTags.add(t.tag);
  for (const t of TLVS.values()) assert.ok(seenTags.has(t.tag), t.name);
  assert.deepEqual([...COMMANDS.keys()].sort(), Object.keys(smpp.commands).sort());
});

// ---- where we differ on purpose ---------------------------------------------------------------

function withTlvs(bytes: Buffer, hexTlvs: string): Buffer {
  const b = Buffer.concat([bytes, Buffer.from(hexTlvs, 'hex')]);
  b.writeUInt32BE(b.length, 0);
  return b;
}

test('difference: smpp drops unknown TLVs when re-encoding; our decode → encode is byte-identical', () => {
  // Vendor TLVs (carrier ids, billing tags…) must survive a PDU passed through the gateway.
  const wire = withTlvs(
    encode({ command: 'deliver_sm', sequence_number: 9, source_addr: '123', short_message: Buffer.from('hi') }),
    '14000003abcdef' + '020b00020050' + '14ff0000',
  );
  const theirs = smppDecode(wire);
  assert.deepEqual(theirs['5120'], Buffer.from('abcdef', 'hex')); // smpp reads them…
  const reencoded = theirs.toBuffer(); // …and loses them
  assert.equal(reencoded.length, wire.length - 7 - 4);
  assert.equal(reencoded.indexOf(Buffer.from('1400', 'hex'), 16), -1);
  const ours = decode(wire);
  assert.deepEqual(
    ours.tlvs?.map((t) => t.tag),
    [0x1400, 0x020b, 0x14ff],
  );
  assert.deepEqual(encode(ours), wire);
});

test('difference: smpp regroups TLVs by name and keeps one of a repeated single TLV; we keep wire order and all', () => {
  // dest_port twice, callback_num_pres_ind (multiple) split around it.
  const wire = withTlvs(encode({ command: 'enquire_link', sequence_number: 1 }), '0302000101' + '020b00020001' + '0302000102' + '020b00020002');
  const theirs = smppDecode(wire);
  assert.equal(theirs.dest_port, 2);
  assert.deepEqual(theirs.callback_num_pres_ind, [1, 2]);
  assert.equal(theirs.toBuffer().toString('hex').slice(32), '0302000101' + '0302000102' + '020b00020002');
  assert.deepEqual(encode(decode(wire)), wire);
});

test('difference: smpp writes no body for any error response; we keep it for data_sm_resp and submit_multi_resp', () => {
  // SMPP 3.4 allows the body (and TLVs such as delivery_failure_reason) on these two; the
  // unsuccess_sme list is the very detail of a failed submit_multi.
  for (const command of ['data_sm_resp', 'submit_multi_resp'] as const) {
    const p = {
      command,
      command_status: 0x45,
      sequence_number: 3,
      message_id: 'abc',
      ...(command === 'submit_multi_resp'
        ? { unsuccess_sme: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4477', error_status_code: 0x0b }] }
        : {}),
      tlvs: [{ tag: 0x0425, value: Buffer.from([1]) }],
    } as PduInput;
    assert.equal(smppEncode(p).length, 16, command);
    const ours = encode(p);
    assert.ok(ours.length > 16, command);
    assert.deepEqual(decode(ours), { ...bodyless(p), ...p });
  }
  // Every other response: both write the header only.
  for (const command of ['submit_sm_resp', 'bind_transceiver_resp', 'query_sm_resp', 'generic_nack'] as const) {
    const p = { command, command_status: 0x58, sequence_number: 4, tlvs: [{ tag: 0x001d, value: Buffer.from('x\0') }] } as PduInput;
    assert.deepEqual(encode(p), smppEncode(p), command);
    assert.equal(encode(p).length, 16);
  }
});

test('difference: smpp defaults interface_version to 0x50 (SMPP 5.0); we default to 0x34, the version we speak', () => {
  for (const command of ['bind_transmitter', 'bind_receiver', 'bind_transceiver'] as const) {
    const theirs = new smpp.PDU(command, { sequence_number: 1, system_id: 'esme' }).toBuffer();
    const ours = encode({ command, sequence_number: 1, system_id: 'esme' });
    const at = 16 + 5 + 1 + 1; // system_id "esme\0", password "\0", system_type "\0"
    assert.equal(theirs[at], 0x50);
    assert.equal(ours[at], 0x34);
    assert.deepEqual(ours.subarray(0, at), theirs.subarray(0, at));
    assert.deepEqual(ours.subarray(at + 1), theirs.subarray(at + 1));
  }
});

test("difference: smpp's time filter rewrites a time of ≤12 characters and passes 13–15; we accept only '' or 16", () => {
  // smpp reads '1' as "relative, 1 second"; the spec has no such short form, and a 13-character
  // time is not a time at all (smpp then decodes it as an Invalid Date).
  const base = { sequence_number: 1, data_coding: 4, short_message: Buffer.alloc(0) };
  const rewritten = new smpp.PDU('submit_sm', { ...base, schedule_delivery_time: '1' });
  rewritten.toBuffer();
  assert.equal(rewritten.schedule_delivery_time, '000000000001000R');
  const odd = new smpp.PDU('submit_sm', { ...base, validity_period: '0000010000000' }).toBuffer();
  const d = smppDecode(odd);
  assert.ok(d.validity_period instanceof Date && Number.isNaN(d.validity_period.getTime()));
  for (const [field, value] of [
    ['schedule_delivery_time', '1'],
    ['validity_period', '0000010000000'],
    ['schedule_delivery_time', '251121103000000+0'],
  ] as const) {
    assert.throws(
      () => encode({ command: 'submit_sm', sequence_number: 1, [field]: value }),
      (e: unknown) =>
        e instanceof PduError && e.field === field && e.status === (field === 'schedule_delivery_time' ? Status.ESME_RINVSCHED : Status.ESME_RINVEXPIRY),
    );
  }
  assert.throws(
    () => decode(odd),
    (e: unknown) => e instanceof PduError && e.field === 'validity_period' && e.status === 0x62,
  );
});

test('difference: smpp decodes times into Date objects (relative ones against the clock); we keep the 16 characters', () => {
  const wire = encode({ command: 'submit_sm', sequence_number: 1, schedule_delivery_time: '000001000000000R', validity_period: '251121103000004-' });
  const theirs = smppDecode(wire);
  assert.ok(theirs.schedule_delivery_time instanceof Date);
  const century = Math.floor(new Date().getUTCFullYear() / 100) * 100;
  assert.equal((theirs.validity_period as Date).getTime(), Date.UTC(century + 25, 10, 21, 11, 30)); // 4 quarters west of UTC
  const ours = decode(wire) as PduInput<'submit_sm'>;
  assert.equal(ours.schedule_delivery_time, '000001000000000R');
  assert.equal(ours.validity_period, '251121103000004-');
});

test("difference: smpp decodes C-octet strings as 'ascii' (high bit stripped); we use Latin-1, lossless", () => {
  const wire = encode({ command: 'submit_sm', sequence_number: 1, source_addr: 'Café', destination_addr: '\u00ff1' });
  assert.equal(wire.indexOf(Buffer.from('Caf\xe9\0', 'latin1')), 16 + 1 + 2);
  const theirs = smppDecode(wire);
  assert.equal(theirs.source_addr, 'Cafi'); // 0xE9 & 0x7F
  assert.equal(theirs.destination_addr, '\x7f1');
  const ours = decode(wire) as PduInput<'submit_sm'>;
  assert.equal(ours.source_addr, 'Café');
  assert.equal(ours.destination_addr, '\u00ff1');
  // Encoding, smpp's 'ascii' writes Latin-1 too (same bytes), but silently truncates a character
  // beyond U+00FF to its low byte; we refuse it.
  assert.deepEqual(
    new smpp.PDU('submit_sm', {
      sequence_number: 1,
      source_addr: 'Café',
      destination_addr: '\u00ff1',
      data_coding: 0,
      short_message: Buffer.alloc(0),
    }).toBuffer(),
    wire,
  );
  const euro = new smpp.PDU('submit_sm_resp', { sequence_number: 1, message_id: '€' }).toBuffer();
  assert.equal(euro[16], 0xac);
  assert.throws(
    () => encode({ command: 'submit_sm_resp', sequence_number: 1, message_id: '€' }),
    (e: unknown) => e instanceof PduError && e.field === 'message_id',
  );
});

test("difference: smpp's message filter turns short_message into text by data_coding; we keep the raw octets", () => {
  const bytes = Buffer.from([0xe9, 0x41, 0x00, 0x1b, 0x65]);
  const got = (dc: number): unknown => smppDecode(encode({ command: 'deliver_sm', sequence_number: 1, data_coding: dc, short_message: bytes })).short_message;
  assert.deepEqual(got(0x04), { message: bytes }); // binary: bytes kept
  assert.deepEqual(got(0x03), { message: 'éA\0\x1be' }); // Latin-1
  assert.equal(typeof (got(0x00) as { message: unknown }).message, 'string'); // GSM 03.38 decoded
  // With UDHI set, smpp also splits off the user data header.
  const udh = smppDecode(
    encode({ command: 'deliver_sm', sequence_number: 1, esm_class: 0x40, data_coding: 4, short_message: Buffer.from('050003cc0201414243', 'hex') }),
  ).short_message as { udh: Buffer[]; message: Buffer };
  assert.deepEqual(udh.udh, [Buffer.from('0003cc0201', 'hex')]);
  assert.deepEqual(udh.message, Buffer.from('ABC'));
  for (const dc of [0x00, 0x03, 0x04, 0x08]) {
    const p = decode(encode({ command: 'deliver_sm', sequence_number: 1, data_coding: dc, short_message: bytes })) as PduInput<'deliver_sm'>;
    assert.deepEqual(p.short_message, bytes);
  }
});

test('difference: smpp decodes truncated bodies silently (reading C-strings past command_length); we reject them', () => {
  const full = encode({
    command: 'submit_sm',
    sequence_number: 77,
    source_addr: 'ACME',
    destination_addr: '447700900123',
    short_message: Buffer.from('hello'),
  });
  const cut = Buffer.from(full);
  cut.writeUInt32BE(16 + 1 + 2 + 3, 0); // body ends inside source_addr
  const theirs = smppDecode(cut);
  assert.equal(theirs.command, 'submit_sm');
  assert.equal(theirs.source_addr, 'ACME'); // read past the end of the PDU
  assert.equal(theirs.destination_addr, undefined);
  assert.throws(
    () => decode(cut),
    (e: unknown) => e instanceof PduError && e.field === 'source_addr' && e.status === 0x02 && e.sequenceNumber === 77,
  );
  const headerOnly = full.subarray(0, 16);
  headerOnly.writeUInt32BE(16, 0);
  assert.equal(smppDecode(headerOnly).command, 'submit_sm');
  assert.throws(
    () => decode(headerOnly),
    (e: unknown) => e instanceof PduError && e.field === 'service_type' && e.status === 0x02,
  );
});

test('difference: smpp reads any dest_flag other than 1 as a distribution list; we reject it (ESME_RINVDESTFLAG)', () => {
  const wire = encode({
    command: 'submit_multi',
    sequence_number: 1,
    dest_address: [{ dest_flag: 2, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: 'team' }],
  });
  const at = 16 + 1 + 1 + 1 + 1 + 1; // service_type, source_addr_ton/npi, source_addr, number_of_dests
  assert.equal(wire[at], 2);
  const bad = Buffer.from(wire);
  bad[at] = 7;
  assert.deepEqual(smppDecode(bad).dest_address, [{ dl_name: 'team' }]);
  assert.throws(
    () => decode(bad),
    (e: unknown) => e instanceof PduError && e.field === 'dest_flag' && e.status === 0x40,
  );
});

test('difference: in query_sm_resp smpp stores a message_state TLV over the mandatory field; we keep both', () => {
  const wire = withTlvs(encode({ command: 'query_sm_resp', sequence_number: 1, message_id: 'm1', message_state: 2 }), '0427000105');
  assert.equal(smppDecode(wire).message_state, 5);
  const ours = decode(wire) as PduInput<'query_sm_resp'>;
  assert.equal(ours.message_state, 2);
  assert.deepEqual(ours.tlvs, [{ tag: 0x0427, value: Buffer.from([5]) }]);
});

test('difference: smpp refuses PDUs over 16384 bytes; our limit is 64 KiB by default (configurable)', () => {
  const payload = Buffer.alloc(20_000, 0x41);
  const wire = encode({ command: 'data_sm', sequence_number: 1, data_coding: 4, tlvs: [{ tag: 0x0424, value: payload }] });
  assert.throws(() => smppDecode(wire), /too large/);
  assert.deepEqual((decode(wire).tlvs ?? [])[0]?.value, payload);
  assert.throws(
    () => decode(wire, 0, 16_384),
    (e: unknown) => e instanceof PduError && e.field === 'command_length',
  );
});

test('difference: smpp enforces no field maxima (it writes a 30-character system_id, a 300-octet message fails only in Buffer); we refuse them', () => {
  const long = new smpp.PDU('bind_transmitter', { sequence_number: 1, system_id: 'x'.repeat(30) }).toBuffer();
  assert.equal(smppDecode(long).system_id, 'x'.repeat(30));
  assert.throws(
    () => decode(long),
    (e: unknown) => e instanceof PduError && e.field === 'system_id' && e.status === Status.ESME_RINVSYSID,
  );
  assert.throws(
    () => encode({ command: 'bind_transmitter', sequence_number: 1, system_id: 'x'.repeat(30) }),
    (e: unknown) => e instanceof PduError && e.field === 'system_id',
  );
  // sm_length is one octet: smpp fails with Node's RangeError, not an SMPP status.
  assert.throws(() => new smpp.PDU('submit_sm', { sequence_number: 1, data_coding: 4, short_message: Buffer.alloc(300) }).toBuffer(), RangeError);
  assert.throws(
    () => encode({ command: 'submit_sm', sequence_number: 1, short_message: Buffer.alloc(300) }),
    (e: unknown) => e instanceof PduError && e.field === 'short_message' && e.status === Status.ESME_RINVMSGLEN,
  );
});
