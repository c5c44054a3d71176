// Delivery receipts: parseReceipt reads the receipted_message_id / message_state TLVs and the SMPP
// 3.4 Appendix B text (TLVs win); receiptBody writes both, and parseReceipt reads it back. The
// PDUs go through the real codec (encode, then decode) as they would on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageState, isFinal } from '../../../src/smpp/message-state.js';
import { isReceipt, parseReceipt, receiptBody, statOf } from '../../../src/dlr/receipt.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import { TLVS } from '../../../src/smpp/defs.js';
import type { PduOf, Tlv } from '../../../src/smpp/pdu.js';

const tag = (name: string): number => TLVS.get(name)!.tag;
const idTlv = (id: string): Tlv => ({ tag: tag('receipted_message_id'), value: Buffer.from(`${id}\0`, 'latin1') });
const stateTlv = (s: number): Tlv => ({ tag: tag('message_state'), value: Buffer.from([s]) });
const netErrTlv = (bytes: number[]): Tlv => ({ tag: tag('network_error_code'), value: Buffer.from(bytes) });

function deliver(text: string, tlvs: Tlv[] = [], esmClass = 0x04): PduOf<'deliver_sm'> {
  const wire = encode({
    command: 'deliver_sm',
    sequence_number: 1,
    source_addr: '447700900123',
    destination_addr: 'SHOP',
    esm_class: esmClass,
    short_message: Buffer.from(text, 'latin1'),
    ...(tlvs.length > 0 ? { tlvs } : {}),
  });
  return decode(wire) as PduOf<'deliver_sm'>;
}

const TEXT = 'id:0000A1B2 sub:001 dlvrd:001 submit date:2403101200 done date:2403101201 stat:DELIVRD err:000 text:Hello world';

test('isReceipt: esm_class message type 0x04 only, whatever the other bits', () => {
  assert.equal(isReceipt(0x04), true);
  assert.equal(isReceipt(0x04 | 0x40 | 0x80 | 0x03), true, 'UDHI, reply path and messaging mode do not matter');
  for (const esm of [0x00, 0x08, 0x10, 0x18, 0x20, 0x24, 0x0c, 0x40]) assert.equal(isReceipt(esm), false, `0x${esm.toString(16)}`);
});

test('parseReceipt from the text alone', () => {
  assert.deepEqual(parseReceipt(deliver(TEXT)), {
    id: '0000A1B2',
    state: MessageState.DELIVERED,
    err: '000',
    submitDate: '2403101200',
    doneDate: '2403101201',
  });
});

test('parseReceipt from the TLVs alone', () => {
  assert.deepEqual(parseReceipt(deliver('', [idTlv('abc123'), stateTlv(MessageState.UNDELIVERABLE)])), {
    id: 'abc123',
    state: MessageState.UNDELIVERABLE,
    err: '000',
  });
});

test('parseReceipt: the TLVs win over the text for id and state', () => {
  const r = parseReceipt(deliver(TEXT, [idTlv('tlv-id'), stateTlv(MessageState.EXPIRED)]))!;
  assert.equal(r.id, 'tlv-id');
  assert.equal(r.state, MessageState.EXPIRED);
  assert.equal(r.err, '000');
  assert.equal(r.doneDate, '2403101201');
});

test('parseReceipt: an out-of-range message_state TLV falls back to the text', () => {
  assert.equal(parseReceipt(deliver(TEXT, [stateTlv(0)]))!.state, MessageState.DELIVERED);
  assert.equal(parseReceipt(deliver(TEXT, [stateTlv(9)]))!.state, MessageState.DELIVERED);
  assert.equal(parseReceipt(deliver('', [idTlv('x'), stateTlv(0)]))!.state, MessageState.ENROUTE, 'no usable state at all: not final');
});

test('parseReceipt: stat mapping, short and long spellings, any case; an unknown word is not final (ENROUTE)', () => {
  const cases: Array<[string, number]> = [
    ['ENROUTE', MessageState.ENROUTE],
    ['DELIVRD', MessageState.DELIVERED],
    ['DELIVERED', MessageState.DELIVERED],
    ['delivrd', MessageState.DELIVERED],
    ['EXPIRED', MessageState.EXPIRED],
    ['DELETED', MessageState.DELETED],
    ['UNDELIV', MessageState.UNDELIVERABLE],
    ['UNDELIVERABLE', MessageState.UNDELIVERABLE],
    ['ACCEPTD', MessageState.ACCEPTED],
    ['ACCEPTED', MessageState.ACCEPTED],
    ['UNKNOWN', MessageState.UNKNOWN],
    ['REJECTD', MessageState.REJECTED],
    ['REJECTED', MessageState.REJECTED],
    ['BUFFRED', MessageState.ENROUTE],
    ['', MessageState.ENROUTE],
  ];
  for (const [stat, state] of cases) assert.equal(parseReceipt(deliver(`id:1 stat:${stat} err:000`))!.state, state, stat);
  assert.equal(parseReceipt(deliver('id:1 err:000'))!.state, MessageState.ENROUTE, 'no stat field at all');
});

test('parseReceipt: err from the text; else the network_error_code TLV in hex; else 000', () => {
  assert.equal(parseReceipt(deliver('id:1 stat:UNDELIV err:021'))!.err, '021');
  assert.equal(parseReceipt(deliver('id:1 stat:UNDELIV', [netErrTlv([0x03, 0x00, 0x0b])]))!.err, '03000b');
  assert.equal(parseReceipt(deliver('', [idTlv('1'), stateTlv(5), netErrTlv([0x01, 0x00, 0x22])]))!.err, '010022');
  assert.equal(parseReceipt(deliver('id:1 stat:UNDELIV err:005', [netErrTlv([0x03, 0x00, 0x0b])]))!.err, '005', 'the text field first');
  assert.equal(parseReceipt(deliver('id:1 stat:UNDELIV'))!.err, '000');
});

test('parseReceipt: field names in any case, fields in any order, the text: part cannot spoof id', () => {
  const r = parseReceipt(deliver('STAT:EXPIRED Err:004 ID:xyz text:id:evil stat:DELIVRD'))!;
  assert.equal(r.id, 'xyz');
  assert.equal(r.state, MessageState.EXPIRED);
  assert.equal(r.err, '004');
  // "sub:" or "dlvrd:" do not end with "id:"-like matches: "xid:" is not "id:".
  assert.equal(parseReceipt(deliver('xid:nope id:yes stat:DELIVRD'))!.id, 'yes');
});

test('parseReceipt: the text may come in message_payload instead of short_message', () => {
  const r = parseReceipt(deliver('', [{ tag: tag('message_payload'), value: Buffer.from(TEXT, 'latin1') }]))!;
  assert.equal(r.id, '0000A1B2');
  assert.equal(r.state, MessageState.DELIVERED);
});

test('parseReceipt: data_sm receipts (TLVs only)', () => {
  const wire = encode({ command: 'data_sm', sequence_number: 3, esm_class: 0x04, tlvs: [idTlv('dsm-1'), stateTlv(MessageState.DELIVERED)] });
  assert.deepEqual(parseReceipt(decode(wire) as PduOf<'data_sm'>), { id: 'dsm-1', state: MessageState.DELIVERED, err: '000' });
});

test('parseReceipt: undefined for a non-receipt esm_class, and for a receipt without an id', () => {
  assert.equal(parseReceipt(deliver(TEXT, [idTlv('x')], 0x00)), undefined, 'an MO that looks like a receipt');
  assert.equal(parseReceipt(deliver(TEXT, [], 0x08)), undefined, 'SME delivery acknowledgement');
  assert.equal(parseReceipt(deliver(TEXT, [], 0x20)), undefined, 'intermediate notification');
  assert.equal(parseReceipt(deliver('stat:DELIVRD err:000')), undefined);
  assert.equal(parseReceipt(deliver('id: stat:DELIVRD')), undefined, 'empty id');
  assert.equal(parseReceipt(deliver('')), undefined);
});

test('parseReceipt: dates must be 10 to 12 digits', () => {
  const r = parseReceipt(deliver('id:1 submit date:240310 done date:240310120000 stat:DELIVRD'))!;
  assert.equal(r.submitDate, undefined);
  assert.equal(r.doneDate, '240310120000');
  assert.equal('submitDate' in r, false, 'absent, not undefined-valued');
});

test('statOf and isFinal', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(statOf), ['ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD']);
  assert.equal(statOf(0), 'UNKNOWN');
  assert.equal(statOf(99), 'UNKNOWN');
  assert.equal(isFinal(MessageState.QUEUED), false);
  assert.equal(isFinal(MessageState.ENROUTE), false);
  for (const s of [2, 3, 4, 5, 6, 7, 8]) assert.equal(isFinal(s), true, String(s));
  assert.equal(isFinal(9), false);
  assert.equal(isFinal(-1), false);
});

test('receiptBody: the Appendix B text and both TLVs', () => {
  const submittedAt = Date.UTC(2024, 2, 10, 12, 0);
  const doneAt = Date.UTC(2024, 2, 10, 12, 5, 30);
  const body = receiptBody({ id: 'a1b2', state: MessageState.DELIVERED, err: '0', submittedAt, doneAt, text: 'Your code is 123456, valid 5 min' });
  assert.equal(
    body.short_message.toString('latin1'),
    'id:a1b2 sub:001 dlvrd:001 submit date:2403101200 done date:2403101205 stat:DELIVRD err:000 text:Your code is 123456,',
  );
  assert.deepEqual(body.tlvs, [
    { tag: tag('receipted_message_id'), value: Buffer.from('a1b2\0', 'latin1') },
    { tag: tag('message_state'), value: Buffer.from([2]) },
  ]);
  const failed = receiptBody({ id: '7', state: MessageState.UNDELIVERABLE, err: '0b', submittedAt, doneAt, text: '' });
  assert.match(failed.short_message.toString('latin1'), /^id:7 sub:001 dlvrd:000 .* stat:UNDELIV err:00b text:$/);
  const longErr = receiptBody({ id: '7', state: MessageState.REJECTED, err: '12345', submittedAt, doneAt, text: 'x' });
  assert.match(longErr.short_message.toString('latin1'), / stat:REJECTD err:123 text:x$/, 'err is three characters');
});

test('receiptBody → encode → decode → parseReceipt gives back id, state and err, for every final state', () => {
  for (const state of [2, 3, 4, 5, 6, 7, 8]) {
    for (const id of ['1', 'a1b2', '18446744073709551615']) {
      const body = receiptBody({ id, state, err: '042', submittedAt: 0, doneAt: 60_000, text: 'hi' });
      const wire = encode({ command: 'deliver_sm', sequence_number: 1, esm_class: 0x04, ...body });
      const parsed = parseReceipt(decode(wire) as PduOf<'deliver_sm'>);
      assert.deepEqual(parsed, { id, state, err: '042', submitDate: '7001010000', doneDate: '7001010001' }, `${id} ${state}`);
      // An account reading only the text finds the same.
      assert.deepEqual(parseReceipt(deliver(body.short_message.toString('latin1'))), parsed);
    }
  }
});
