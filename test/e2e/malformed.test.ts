// Malformed PDUs against a real SmppServer in a child process, each case on its own connection.
// Every case asserts the exact answer (command, status, sequence_number) and whether the
// connection stays usable or is closed; at the end the process must still be up and serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../src/smpp/codec.js';
import {
  COMMANDS,
  ESME_RINVBNDSTS,
  ESME_RINVCMDID,
  ESME_RINVCMDLEN,
  ESME_RINVTLVLEN,
  ESME_RINVTLVSTREAM,
  ESME_ROK,
  statusByName,
  statusName,
} from '../../src/smpp/defs.js';
import type { Pdu, PduInput } from '../../src/smpp/pdu.js';
import { startProtocolServer, type ChildServer } from '../helpers/child.js';
import { RawPeer } from '../helpers/raw-peer.js';

const commandId = (name: string): number => COMMANDS.get(name)!.id;

function status(name: string): number {
  const code = statusByName(name);
  assert.ok(code !== undefined, name);
  return code;
}
const ESME_RINVDSTADR = status('ESME_RINVDSTADR');
const ESME_RINVPASWD = status('ESME_RINVPASWD');
const ESME_RINVSYSID = status('ESME_RINVSYSID');

let server: ChildServer;
const peers: RawPeer[] = [];

before(async () => {
  server = await startProtocolServer();
});

after(async () => {
  for (const p of peers) p.destroy();
  const exit = await server?.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, 'the server exits 0 on SIGTERM');
});

async function connect(): Promise<RawPeer> {
  const peer = await RawPeer.connect(server.port);
  peers.push(peer);
  return peer;
}

async function bound(): Promise<RawPeer> {
  const peer = await connect();
  expectPdu(await peer.bind('test', 'secret'), 'bind_transceiver_resp', ESME_ROK, 1);
  return peer;
}

/** A header with the given fields followed by `body`. */
function raw(length: number, id: number, seq: number, body: Buffer = Buffer.alloc(0), status = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length >>> 0, 0);
  b.writeUInt32BE(id >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  return Buffer.concat([b, body]);
}

/** A copy of `bytes` with command_length set to `length`. */
function withLength(bytes: Buffer, length: number): Buffer {
  const b = Buffer.from(bytes);
  b.writeUInt32BE(length >>> 0, 0);
  return b;
}

/** A copy of `bytes` with `extra` appended and command_length covering it. */
function appended(bytes: Buffer, extra: Buffer): Buffer {
  const b = Buffer.concat([bytes, extra]);
  b.writeUInt32BE(b.length, 0);
  return b;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'latin1');
}

function expectPdu(pdu: Pdu, command: string, status: number, seq: number): void {
  assert.deepEqual({ command: pdu.command, status: statusName(pdu.command_status), seq: pdu.sequence_number }, { command, status: statusName(status), seq });
}

/** The connection answers an enquire_link with this sequence number (it is in sync and usable). */
async function assertUsable(peer: RawPeer, seq: number): Promise<void> {
  expectPdu(await peer.request({ command: 'enquire_link', sequence_number: seq }), 'enquire_link_resp', ESME_ROK, seq);
}

const SUBMIT: PduInput<'submit_sm'> = {
  command: 'submit_sm',
  sequence_number: 42,
  source_addr: '12345',
  destination_addr: '4915112345678',
  short_message: Buffer.from('hello'),
};

// ---- command_length outside 16..max: framing is lost ---------------------------------------------

/**
 * The observed (and intended) answer to a command_length the framer cannot accept: one
 * generic_nack ESME_RINVCMDLEN with sequence_number 0 (the header cannot be trusted), then the
 * server closes the connection in order (FIN, no reset) and sends nothing else.
 */
async function assertFramingLost(bytes: Buffer): Promise<void> {
  const peer = await connect();
  await peer.send(bytes);
  const first = await peer.nextOrClose();
  assert.notEqual(first, 'closed', 'a generic_nack comes before the close');
  expectPdu(first as Pdu, 'generic_nack', ESME_RINVCMDLEN, 0);
  assert.equal(await peer.nextOrClose(), 'closed', 'nothing after the generic_nack but the close');
  assert.deepEqual(await peer.waitClosed(), { error: undefined, gotEnd: true }, 'closed with FIN, not reset');
  assert.deepEqual(
    peer.received.map((p) => p.command),
    ['generic_nack'],
  );
}

const ENQUIRE_LINK = commandId('enquire_link');
const SUBMIT_SM = commandId('submit_sm');

for (const [name, length] of [
  ['0', 0],
  ['4', 4],
  ['15', 15],
  ['2^31', 2 ** 31],
  ['2^32 - 1', 2 ** 32 - 1],
  ['64 KiB + 1 (above the max)', 64 * 1024 + 1],
] as const) {
  test(`command_length ${name}: generic_nack ESME_RINVCMDLEN (seq 0), then the connection is closed`, async () => {
    await assertFramingLost(raw(length, ENQUIRE_LINK, 7));
  });
}

test('command_length above the max, arriving a byte at a time: same answer', async () => {
  const peer = await connect();
  const bytes = raw(64 * 1024 + 1, SUBMIT_SM, 9);
  for (let i = 0; i < 4; i++) await peer.send(bytes.subarray(i, i + 1));
  const first = await peer.nextOrClose();
  assert.notEqual(first, 'closed');
  expectPdu(first as Pdu, 'generic_nack', ESME_RINVCMDLEN, 0);
  assert.equal(await peer.nextOrClose(), 'closed');
});

test('command_length exactly 64 KiB (the max) is framed: an unknown command that size gets generic_nack and the link stays up', async () => {
  const peer = await connect();
  const size = 64 * 1024;
  await peer.send(raw(size, 0x00000777, 0x51, Buffer.alloc(size - 16, 0xa5)));
  expectPdu(await peer.next(), 'generic_nack', ESME_RINVCMDID, 0x51);
  await assertUsable(peer, 0x52);
});

// ---- unknown command_id --------------------------------------------------------------------------

test('unknown command_id: generic_nack ESME_RINVCMDID with the same sequence_number; the link stays usable', async () => {
  const peer = await connect();
  await peer.send(raw(16, 0x00000777, 0x1234));
  expectPdu(await peer.next(), 'generic_nack', ESME_RINVCMDID, 0x1234);
  // With a body, and with the response bit set: the body is skipped as one frame.
  await peer.send(raw(24, 0x00000777, 0x1235, Buffer.from('01234567')));
  expectPdu(await peer.next(), 'generic_nack', ESME_RINVCMDID, 0x1235);
  await peer.send(raw(16, 0x80000777, 0x1236));
  expectPdu(await peer.next(), 'generic_nack', ESME_RINVCMDID, 0x1236);
  await assertUsable(peer, 0x1237);
  assert.equal(peer.isClosed, false);
});

// ---- bodies that do not match their length -------------------------------------------------------

test('truncated body (command_length ends before the mandatory fields): submit_sm_resp ESME_RINVCMDLEN', async () => {
  const peer = await bound();
  // service_type '' and source_addr_ton, then the PDU ends where source_addr_npi should be.
  await peer.send(raw(16 + 2, SUBMIT_SM, 77, Buffer.from([0x00, 0x01])));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVCMDLEN, 77);
  // Cut at each length from 16 to one short of the whole: never accepted, never a crash.
  const whole = encode({ ...SUBMIT, sequence_number: 100 });
  for (let len = 16; len < whole.length; len++) {
    await peer.send(withLength(whole.subarray(0, len), len));
    const resp = await peer.next();
    assert.equal(resp.command, 'submit_sm_resp', `cut at ${len}`);
    assert.equal(resp.sequence_number, 100);
    assert.notEqual(resp.command_status, ESME_ROK, `cut at ${len} was accepted`);
  }
  await assertUsable(peer, 79);
});

test('header-only submit_sm (body missing altogether), or cut where a C-octet string starts: submit_sm_resp ESME_RINVCMDLEN', async () => {
  const peer = await bound();
  await peer.send(raw(16, SUBMIT_SM, 78));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVCMDLEN, 78);
  // Likewise a body that ends right after a complete field, where the next cstring should begin.
  await peer.send(raw(16 + 3, SUBMIT_SM, 79, Buffer.from([0x00, 0x01, 0x01])));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVCMDLEN, 79);
});

test('body shorter than command_length: the following PDUs are swallowed into it and it is rejected, then framing is back in step', async () => {
  const peer = await bound();
  const submit = encode({ ...SUBMIT, sequence_number: 90 });
  // The peer claims 32 bytes more than it sends, then sends two enquire_links (32 bytes): the
  // framer (correctly: it cannot know) takes them as the rest of the submit_sm, whose tail then
  // reads as a TLV stream: tag 0 len 16, tag 0 len 0, tag 0 len 0x66 with 4 bytes left.
  await peer.send(withLength(submit, submit.length + 32));
  await peer.send(Buffer.concat([encode({ command: 'enquire_link', sequence_number: 101 }), encode({ command: 'enquire_link', sequence_number: 102 })]));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVTLVLEN, 90);
  // Exactly the claimed bytes were consumed, so the next PDU starts where a PDU starts.
  await assertUsable(peer, 103);
  assert.deepEqual(
    peer.received.map((p) => `${p.command}#${p.sequence_number}`),
    ['bind_transceiver_resp#1', 'submit_sm_resp#90', 'enquire_link_resp#103'],
  );
});

test('body longer than its fields (1..3 bytes left over): submit_sm_resp ESME_RINVTLVSTREAM', async () => {
  const peer = await bound();
  const submit = encode(SUBMIT);
  for (const extra of [1, 2, 3]) {
    await peer.send(appended(submit, Buffer.alloc(extra, 0xee)));
    expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVTLVSTREAM, SUBMIT.sequence_number);
  }
  await assertUsable(peer, 43);
});

// ---- bad fields ----------------------------------------------------------------------------------

test("cstring with no NUL: cut by the end of the PDU is ESME_RINVCMDLEN; no NUL within the maximum is the field's status", async () => {
  const peer = await connect();
  const BIND = commandId('bind_transceiver');
  // system_id "test" and then the PDU ends: the body is cut short.
  await peer.send(raw(16 + 4, BIND, 5, Buffer.from('test', 'latin1')));
  expectPdu(await peer.next(), 'bind_transceiver_resp', ESME_RINVCMDLEN, 5);
  // 20 non-NUL bytes where system_id (at most 15 characters) should end, more bytes after them.
  const body = Buffer.concat([Buffer.alloc(20, 0x41), cstr('secret'), cstr(''), Buffer.from([0x34, 0, 0]), cstr('')]);
  await peer.send(raw(16 + body.length, BIND, 6, body));
  expectPdu(await peer.next(), 'bind_transceiver_resp', ESME_RINVSYSID, 6);
  // The session is still open (not bound, not binding): a proper bind now succeeds.
  expectPdu(await peer.bind('test', 'secret', 'bind_transceiver', 7), 'bind_transceiver_resp', ESME_ROK, 7);
});

test('cstring longer than its maximum (22-char destination_addr): submit_sm_resp ESME_RINVDSTADR', async () => {
  const peer = await bound();
  const body = Buffer.concat([
    cstr(''), // service_type
    Buffer.from([1, 1]),
    cstr('12345'), // source_addr
    Buffer.from([1, 1]),
    cstr('1234567890123456789012'), // destination_addr: 22 characters, max is 20
    Buffer.from([0, 0, 0]), // esm_class, protocol_id, priority_flag
    cstr(''), // schedule_delivery_time
    cstr(''), // validity_period
    Buffer.from([0, 0, 0, 0]), // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
    Buffer.from([2]),
    Buffer.from('hi'),
  ]);
  await peer.send(raw(16 + body.length, SUBMIT_SM, 61, body));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVDSTADR, 61);
  // The same body with a 20-character address is accepted: the rejection was about the length.
  const at = 11; // where destination_addr starts in this body
  assert.equal(body.toString('latin1', at, at + 22), '1234567890123456789012');
  const fixed = Buffer.concat([body.subarray(0, at + 20), Buffer.from([0]), body.subarray(at + 23)]);
  await peer.send(raw(16 + fixed.length, SUBMIT_SM, 62, fixed));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_ROK, 62);
});

test('TLV length past the end of the PDU: submit_sm_resp ESME_RINVTLVLEN', async () => {
  const peer = await bound();
  // user_message_reference (0x0204) says 10 bytes, 2 follow.
  await peer.send(appended(encode({ ...SUBMIT, sequence_number: 70 }), Buffer.from([0x02, 0x04, 0x00, 0x0a, 0x00, 0x01])));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_RINVTLVLEN, 70);
  // A well-formed TLV of the same tag is accepted.
  await peer.send(appended(encode({ ...SUBMIT, sequence_number: 71 }), Buffer.from([0x02, 0x04, 0x00, 0x02, 0x00, 0x01])));
  expectPdu(await peer.next(), 'submit_sm_resp', ESME_ROK, 71);
});

// ---- state -------------------------------------------------------------------------------------

test('submit_sm before bind: submit_sm_resp ESME_RINVBNDSTS, and the link stays open', async () => {
  const peer = await connect();
  expectPdu(await peer.request({ ...SUBMIT, sequence_number: 3 }), 'submit_sm_resp', ESME_RINVBNDSTS, 3);
  await assertUsable(peer, 4);
});

test('bind with a wrong password: ESME_RINVPASWD; the session may bind again', async () => {
  const peer = await connect();
  expectPdu(await peer.bind('test', 'wrong', 'bind_transmitter', 8), 'bind_transmitter_resp', ESME_RINVPASWD, 8);
  expectPdu(await peer.request({ ...SUBMIT, sequence_number: 9 }), 'submit_sm_resp', ESME_RINVBNDSTS, 9);
  expectPdu(await peer.bind('test', 'secret', 'bind_transmitter', 10), 'bind_transmitter_resp', ESME_ROK, 10);
  expectPdu(await peer.request({ ...SUBMIT, sequence_number: 11 }), 'submit_sm_resp', ESME_ROK, 11);
});

// ---- teardown ----------------------------------------------------------------------------------

// The session answers the peer's FIN ('end') with socket.end() at once, so the answers of handlers
// still running are dropped although the peer's write side only was closed. Reported as a src bug
// (src/smpp/session.ts, the 'end' listener); this test turns green once it is fixed.
test('requests followed by a half-close (FIN) are all answered, a slow handler included', async () => {
  const peer = await bound();
  await peer.send(Buffer.concat([encode({ command: 'data_sm', sequence_number: 20, destination_addr: 'SLOW1' }), encode({ ...SUBMIT, sequence_number: 21 })]));
  peer.end();
  const got: string[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await peer.nextOrClose();
    if (p === 'closed') break;
    got.push(`${p.command}#${p.sequence_number}/${statusName(p.command_status)}`);
  }
  assert.deepEqual(got.sort(), ['data_sm_resp#20/ESME_ROK', 'submit_sm_resp#21/ESME_ROK']);
});

// ---- afterwards --------------------------------------------------------------------------------

test('after every case: the process is alive, no session is left behind, and a well-behaved session binds and submits', async () => {
  for (const p of peers.splice(0)) p.destroy();
  const mem = await server.assertAlive();
  assert.ok(mem.rss < 200 * 1024 * 1024, `rss ${mem.rss}`);
  const stats = await server.waitForStats((s) => s.sessions === 0);
  assert.equal(stats.sessions, 0, 'every connection above has been let go');
  const peer = await connect();
  const bind = await peer.bind('test', 'secret', 'bind_transceiver', 1);
  expectPdu(bind, 'bind_transceiver_resp', ESME_ROK, 1);
  assert.equal((bind as Pdu & { system_id: string }).system_id, 'smppgw');
  const resp = await peer.request({ ...SUBMIT, sequence_number: 2 });
  expectPdu(resp, 'submit_sm_resp', ESME_ROK, 2);
  assert.match((resp as Pdu & { message_id: string }).message_id, /^m[0-9a-f]+$/);
  expectPdu(await peer.request({ command: 'unbind', sequence_number: 3 }), 'unbind_resp', ESME_ROK, 3);
  const closed = await peer.waitClosed();
  assert.equal(closed.error, undefined);
});
