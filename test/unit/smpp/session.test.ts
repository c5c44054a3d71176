// Session: the state machine on both sides, sequence numbers, generic_nack, handler faults, and
// the socket options. Real TCP on 127.0.0.1; the far end is a raw Peer (test/helpers/peer.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SessionStateError, SmppError } from '../../../src/smpp/errors.js';
import { ESME_RALYBND, ESME_RINVBNDSTS, ESME_RINVCMDID, ESME_RSYSERR, ESME_RTHROTTLED, MAX_SEQUENCE } from '../../../src/smpp/defs.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import { Session, type SessionHandlers } from '../../../src/smpp/session.js';
import { ManualClock } from '../../helpers/clock.js';
import { bindEsme, dispose, guard, sessionWithPeer, socketPair, submit, tagOf } from '../../helpers/peer.js';

const acceptAll: SessionHandlers = {
  bind: () => ({ system_id: 'smsc' }),
  request: () => ({ message_id: 'id-1' }),
};

test('state: submit_sm before bind is answered ESME_RINVBNDSTS', async (t) => {
  let handled = 0;
  const { session, peer } = await sessionWithPeer({ role: 'smsc', handlers: { ...acceptAll, request: () => void handled++ } });
  t.after(() => dispose(session, peer));
  peer.send({ ...submit('early'), sequence_number: 7 });
  const resp = await peer.next();
  assert.equal(resp.command, 'submit_sm_resp');
  assert.equal(resp.sequence_number, 7);
  assert.equal(resp.command_status, ESME_RINVBNDSTS);
  assert.equal(handled, 0);
  assert.equal(session.state, 'open');
});

test('state: a second bind is answered ESME_RALYBND', async (t) => {
  let binds = 0;
  const { session, peer } = await sessionWithPeer({ role: 'smsc', handlers: { ...acceptAll, bind: () => (binds++, { system_id: 'smsc' }) } });
  t.after(() => dispose(session, peer));
  assert.equal((await peer.bind('bind_transmitter')).command_status, 0);
  assert.equal(session.state, 'bound_tx');
  const again = await peer.bind('bind_receiver', {}, 2);
  assert.equal(again.command, 'bind_receiver_resp');
  assert.equal(again.sequence_number, 2);
  assert.equal(again.command_status, ESME_RALYBND);
  assert.equal(binds, 1);
  assert.equal(session.state, 'bound_tx');
});

test('state: deliver_sm (and outbind) from an ESME are refused with ESME_RINVCMDID', async (t) => {
  let handled = 0;
  const { session, peer } = await sessionWithPeer({ role: 'smsc', handlers: { ...acceptAll, request: () => void handled++ } });
  t.after(() => dispose(session, peer));
  await peer.bind('bind_transceiver');
  peer.send({ ...submit('wrong way'), command: 'deliver_sm', sequence_number: 3 });
  const resp = await peer.next();
  assert.deepEqual([resp.command, resp.sequence_number, resp.command_status], ['deliver_sm_resp', 3, ESME_RINVCMDID]);
  // outbind has no response PDU: the refusal is a generic_nack.
  peer.send({ command: 'outbind', sequence_number: 4, system_id: 'x', password: 'y' });
  const nack = await peer.next();
  assert.deepEqual([nack.command, nack.sequence_number, nack.command_status], ['generic_nack', 4, ESME_RINVCMDID]);
  assert.equal(handled, 0);
  assert.equal(session.state, 'bound_trx');
});

test('state: our side refuses to send a request illegal in its state (SessionStateError)', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme' });
  t.after(() => dispose(session, peer));
  const isStateError = (err: unknown) => err instanceof SessionStateError && err.code === 'SMPP_SESSION_STATE';
  await assert.rejects(session.request(submit('unbound')), isStateError);
  await bindEsme(session, peer, 'bind_receiver');
  assert.equal(session.state, 'bound_rx');
  await assert.rejects(session.request(submit('on rx')), isStateError);
  await assert.rejects(session.bind('bind_transmitter', {}), isStateError);
  assert.equal(session.outstanding, 0);
  // Nothing of it reached the wire.
  assert.deepEqual(await peer.sync(), []);

  // The SMSC side too: no deliver_sm to a transmitter.
  const smsc = await sessionWithPeer({ role: 'smsc', handlers: acceptAll });
  t.after(() => dispose(smsc.session, smsc.peer));
  await smsc.peer.bind('bind_transmitter');
  await assert.rejects(smsc.session.request({ ...submit('mo'), command: 'deliver_sm' }), isStateError);
  assert.deepEqual(await smsc.peer.sync(), []);
});

test('state: a deliver_sm in the same TCP read as our bind_resp is taken by the new bind', async (t) => {
  const got: string[] = [];
  const { session, peer } = await sessionWithPeer({ role: 'esme', handlers: { request: (pdu) => void got.push(tagOf(pdu)) } });
  t.after(() => dispose(session, peer));
  const bound = session.bind('bind_receiver', { system_id: 'esme', password: 'pw' });
  const req = await peer.next('bind_receiver');
  // One write: the bind_resp and, right behind it, a receipt held for this receiver.
  peer.send(
    { command: 'bind_receiver_resp', sequence_number: req.sequence_number, system_id: 'smsc' },
    { ...submit('receipt'), command: 'deliver_sm', sequence_number: 900 },
  );
  await guard(bound, 'bind');
  const resp = await peer.next('deliver_sm_resp');
  assert.deepEqual([resp.command, resp.sequence_number, resp.command_status], ['deliver_sm_resp', 900, 0]);
  assert.deepEqual(got, ['receipt']);
  assert.equal(session.systemId, 'esme');
});

test('sequence numbers start at 1 and rise by one', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme' });
  t.after(() => dispose(session, peer));
  const replies = [0, 1, 2].map(() => session.request({ command: 'enquire_link' }));
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const req = await peer.next();
    seen.push(req.sequence_number);
    peer.answer(req);
  }
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(
    (await guard(Promise.all(replies), 'replies')).map((r) => r.sequence_number),
    [1, 2, 3],
  );
});

test('sequence numbers wrap from 0x7FFFFFFF to 1', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme', firstSequence: MAX_SEQUENCE - 1 });
  t.after(() => dispose(session, peer));
  const replies = [0, 1, 2, 3].map(() => session.request({ command: 'enquire_link' }));
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    const req = await peer.next();
    seen.push(req.sequence_number);
    peer.answer(req);
  }
  assert.deepEqual(seen, [0x7ffffffe, 0x7fffffff, 1, 2]);
  await guard(Promise.all(replies), 'replies');
  assert.throws(() => new Session(new net.Socket(), { role: 'esme', firstSequence: 0 }), RangeError);
});

test('generic_nack: an unknown command_id is answered generic_nack ESME_RINVCMDID', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'smsc', handlers: acceptAll });
  t.after(() => dispose(session, peer));
  const raw = Buffer.alloc(16);
  raw.writeUInt32BE(16, 0);
  raw.writeUInt32BE(0x0000abcd, 4);
  raw.writeUInt32BE(0, 8);
  raw.writeUInt32BE(42, 12);
  peer.socket.write(raw);
  const nack = await peer.next();
  assert.deepEqual([nack.command, nack.sequence_number, nack.command_status], ['generic_nack', 42, ESME_RINVCMDID]);
  // The link survives it.
  assert.equal((await peer.bind()).command_status, 0);
});

test('generic_nack received for our pending request rejects it with SmppError carrying the status', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme' });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const reply = session.request(submit('nacked'));
  const req = await peer.next();
  peer.send({ command: 'generic_nack', sequence_number: req.sequence_number, command_status: ESME_RTHROTTLED });
  await assert.rejects(guard(reply, 'rejection'), (err: unknown) => err instanceof SmppError && err.status === ESME_RTHROTTLED);
  assert.equal(session.outstanding, 0);
  assert.equal(session.inFlight, 0);
});

test('handler faults: throw, reject and an invalid response give ESME_RSYSERR; an SmppError gives its status', async (t) => {
  const handlers: SessionHandlers = {
    bind: () => ({ system_id: 'smsc' }),
    request(pdu: Pdu) {
      switch (tagOf(pdu)) {
        case 'throw':
          throw new Error('handler bug');
        case 'throw-string':
          throw 'not even an Error'; // eslint-disable-line no-throw-literal
        case 'reject':
          return Promise.reject(new Error('async handler bug'));
        case 'invalid':
          return { message_id: 'x'.repeat(300) }; // longer than message_id may be (255 in a response)
        case 'smpp':
          throw new SmppError(ESME_RTHROTTLED);
        case 'smpp-async':
          return Promise.reject(new SmppError(ESME_RTHROTTLED));
        default:
          return { message_id: 'fine' };
      }
    },
  };
  const { session, peer } = await sessionWithPeer({ role: 'smsc', handlers });
  t.after(() => dispose(session, peer));
  await peer.bind('bind_transmitter');
  const tags = ['throw', 'throw-string', 'reject', 'invalid', 'smpp', 'smpp-async', 'ok'];
  peer.send(...tags.map((tag, i) => ({ ...submit(tag), sequence_number: 10 + i })));
  const bySeq = new Map<number, Pdu>();
  for (let i = 0; i < tags.length; i++) {
    const resp = await peer.next();
    bySeq.set(resp.sequence_number, resp);
  }
  const statuses = tags.map((_, i) => bySeq.get(10 + i)?.command_status);
  assert.deepEqual(statuses, [ESME_RSYSERR, ESME_RSYSERR, ESME_RSYSERR, ESME_RSYSERR, ESME_RTHROTTLED, ESME_RTHROTTLED, 0]);
  for (const resp of bySeq.values()) assert.equal(resp.command, 'submit_sm_resp');
  assert.equal((bySeq.get(16) as Pdu & { message_id: string }).message_id, 'fine');
  // Still alive and answering.
  assert.deepEqual(await peer.sync(), []);
  assert.equal(session.state, 'bound_tx');
});

test('TCP_NODELAY is set on the socket a session is given', async (t) => {
  const { ours, theirs } = await socketPair();
  const calls: unknown[] = [];
  const original = ours.setNoDelay.bind(ours);
  ours.setNoDelay = (noDelay?: boolean) => {
    calls.push(noDelay);
    return original(noDelay);
  };
  const session = new Session(ours, { role: 'smsc', clock: new ManualClock(), enquireLinkMs: 0, bindTimeoutMs: 0 });
  t.after(() => {
    session.destroy();
    theirs.destroy();
  });
  assert.deepEqual(calls, [true]);
});

test('invalid PDUs are all answered, but only the first ten per session are logged at warn', async (t) => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../../src/log.js');
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = createLogger({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const { session, peer } = await sessionWithPeer({ role: 'smsc', logger, handlers: { bind: () => ({ system_id: 'smsc' }) } });
  t.after(() => dispose(session, peer));
  await peer.bind();
  for (let seq = 10; seq < 25; seq++) {
    // A submit_sm whose body ends inside service_type.
    const bad = Buffer.alloc(17);
    bad.writeUInt32BE(17, 0);
    bad.writeUInt32BE(0x04, 4);
    bad.writeUInt32BE(seq, 12);
    bad[16] = 0x41;
    peer.socket.write(bad);
  }
  for (let i = 0; i < 15; i++) {
    const resp = await peer.next('an answer to each invalid PDU');
    assert.equal(resp.command, 'submit_sm_resp');
    assert.notEqual(resp.command_status, 0);
  }
  const warned = lines.filter((l) => l.msg === 'invalid PDU');
  assert.equal(warned.length, 10);
  assert.equal(lines.filter((l) => l.msg === 'more invalid PDUs on this session are logged at debug only').length, 1);
});
