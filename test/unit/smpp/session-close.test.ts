// Session: unbind both ways, the orderly close() with work in flight, destroy(), and that nothing
// pending outlives the session. Deadlines run on the ManualClock; the far end is a raw Peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClosedError } from '../../../src/smpp/errors.js';
import { ESME_RBINDFAIL } from '../../../src/smpp/defs.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import type { ResponseInit } from '../../../src/smpp/session.js';
import { bindEsme, dispose, guard, sessionWithPeer, submit, tagOf, turn } from '../../helpers/peer.js';

type Resp = Pdu & { message_id?: string };
const isClosedError = (err: unknown) => err instanceof SessionClosedError && err.code === 'SMPP_SESSION_CLOSED';

/** Collects how each promise settled, without leaving a rejection unhandled. */
function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; err: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );
}

test('unbind from the peer: answered unbind_resp, the socket closes, pending requests are rejected', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', window: 2 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const results = [submit('A'), submit('B'), submit('C')].map((pdu) => outcome(session.request(pdu)));
  assert.deepEqual((await peer.sync()).map(tagOf), ['A', 'B']);
  peer.send({ command: 'unbind', sequence_number: 77 });
  const resp = await peer.next('unbind_resp');
  assert.deepEqual([resp.command, resp.sequence_number, resp.command_status], ['unbind_resp', 77, 0]);
  await guard(peer.closed, 'socket close');
  await guard(session.whenClosed(), 'session close');
  for (const r of await Promise.all(results)) assert.ok(!r.ok && isClosedError(r.err));
  assert.equal(session.state, 'closed');
  assert.equal(session.outstanding, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('close(): unbind goes out and its unbind_resp ends the connection', async (t) => {
  const states: string[] = [];
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', handlers: { state: (_s, st) => void states.push(st) } });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transceiver');
  let closed = false;
  const closing = session.close('done').then(() => (closed = true));
  const unbind = await peer.next('unbind');
  assert.equal(unbind.command, 'unbind');
  await turn();
  assert.equal(closed, false, 'close() waits for unbind_resp');
  peer.answer(unbind);
  await guard(closing, 'close()');
  await guard(peer.closed, 'socket close at the peer');
  assert.deepEqual(states, ['binding', 'bound_trx', 'unbinding', 'closed']);
  assert.equal(session.closeReason, 'done');
  assert.equal(await session.close(), undefined, 'a second close() is harmless');
  assert.equal(clock.pendingTimers, 0);
});

test('close() with requests in flight waits for their responses, then unbinds', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme' });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const a = session.request(submit('A'));
  const b = session.request(submit('B'));
  const reqs = await peer.sync();
  assert.deepEqual(reqs.map(tagOf), ['A', 'B']);
  const closing = session.close('done', 10_000);
  await assert.rejects(session.request(submit('late')), isClosedError);
  assert.deepEqual(await peer.sync(), [], 'no unbind while requests are in flight');
  peer.answer(reqs[0]!, { message_id: 'A' });
  assert.deepEqual(await peer.sync(), []);
  peer.answer(reqs[1]!, { message_id: 'B' });
  assert.equal(((await guard(a, 'A')) as Resp).message_id, 'A');
  assert.equal(((await guard(b, 'B')) as Resp).message_id, 'B');
  const unbind = await peer.next('unbind');
  assert.equal(unbind.command, 'unbind');
  peer.answer(unbind);
  await guard(closing, 'close()');
  assert.equal(session.outstanding, 0);
});

test('close() with a peer that never answers: at the deadline pending requests are rejected and the socket closed', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', responseTimeoutMs: 60_000 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const results = [submit('A'), submit('B')].map((pdu) => outcome(session.request(pdu)));
  assert.equal((await peer.sync()).length, 2);
  let closed = false;
  const closing = session.close('shutting down', 1_000).then(() => (closed = true));
  clock.advance(999);
  await turn();
  assert.equal(closed, false);
  assert.equal(session.outstanding, 2);
  clock.advance(1);
  await guard(closing, 'close()');
  await guard(peer.closed, 'socket close at the peer');
  for (const r of await Promise.all(results)) assert.ok(!r.ok && isClosedError(r.err));
  assert.equal(session.outstanding, 0);
  assert.equal(peer.received.filter((p) => p.command === 'unbind').length, 0, 'no unbind to a peer that does not answer');
  assert.equal(clock.pendingTimers, 0);
});

test('destroy() rejects every pending request and waiter at once', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', window: 2 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const results = ['A', 'B', 'C', 'D'].map((tag) => outcome(session.request(submit(tag))));
  assert.equal((await peer.sync()).length, 2);
  assert.equal(session.outstanding, 2);
  session.destroy('test destroy');
  // Before destroy() returns: the session is closed and holds nothing (no waiting for the socket).
  assert.equal(session.state, 'closed');
  assert.equal(session.outstanding, 0);
  assert.equal(session.inFlight, 0);
  assert.equal(clock.pendingTimers, 0);
  for (const r of await Promise.all(results)) assert.ok(!r.ok && isClosedError(r.err));
  assert.match(session.closeReason, /test destroy/);
  await guard(peer.closed, 'socket close at the peer');
});

test('close() waits for a request of the peer being handled, answers it, then unbinds', async (t) => {
  let release: ((init: ResponseInit) => void) | undefined;
  const { session, peer } = await sessionWithPeer({
    role: 'smsc',
    handlers: { bind: () => ({ system_id: 'smsc' }), request: () => new Promise<ResponseInit>((resolve) => (release = resolve)) },
  });
  t.after(() => dispose(session, peer));
  await peer.bind('bind_transmitter');
  peer.send({ ...submit('slow'), sequence_number: 5 });
  await peer.sync(); // the request is being handled now
  assert.ok(release);
  const closing = session.close('server shutting down');
  assert.deepEqual(await peer.sync(), [], 'no unbind while the peer request is handled');
  release!({ message_id: 'm5' });
  const resp = (await peer.next('submit_sm_resp')) as Resp;
  assert.deepEqual([resp.command, resp.sequence_number, resp.message_id], ['submit_sm_resp', 5, 'm5']);
  const unbind = await peer.next('unbind');
  assert.equal(unbind.command, 'unbind');
  peer.answer(unbind);
  await guard(closing, 'close()');
});

test('close() while our bind is in flight: the bind rejects, and a bind the peer accepted is unbound', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme' });
  t.after(() => dispose(session, peer));
  const bound = outcome(session.bind('bind_transmitter', { system_id: 'esme', password: 'pw' }));
  const bindReq = await peer.next('bind');
  const closing = session.close('changed my mind');
  peer.answer(bindReq, { system_id: 'smsc' });
  const r = await bound;
  assert.ok(!r.ok && isClosedError(r.err));
  assert.notEqual(session.state, 'bound_tx');
  const unbind = await peer.next('unbind');
  assert.equal(unbind.command, 'unbind');
  peer.answer(unbind);
  await guard(closing, 'close()');
});

test('close() while a peer bind is being decided: the bind is answered ESME_RBINDFAIL', async (t) => {
  let decide: ((init: ResponseInit) => void) | undefined;
  const { session, peer } = await sessionWithPeer({
    role: 'smsc',
    handlers: { bind: () => new Promise<ResponseInit>((resolve) => (decide = resolve)) },
  });
  t.after(() => dispose(session, peer));
  peer.send({ command: 'bind_transmitter', sequence_number: 1, system_id: 'esme', password: 'pw' });
  await peer.sync();
  const closing = session.close('server shutting down');
  decide!({ system_id: 'smsc' });
  const resp = await peer.next('bind_transmitter_resp');
  assert.deepEqual([resp.command, resp.command_status], ['bind_transmitter_resp', ESME_RBINDFAIL]);
  await guard(closing, 'close()');
  await guard(peer.closed, 'socket close');
  assert.equal(peer.received.filter((p) => p.command === 'unbind').length, 0);
});

test('a half-close (FIN) from the peer: our requests are rejected, its requests still answered, then the connection ends', async (t) => {
  let release: ((init: ResponseInit) => void) | undefined;
  const { session, peer } = await sessionWithPeer({
    role: 'smsc',
    handlers: { bind: () => ({ system_id: 'smsc' }), request: () => new Promise<ResponseInit>((resolve) => (release = resolve)) },
  });
  t.after(() => dispose(session, peer));
  await peer.bind('bind_transceiver');
  const mo = outcome(session.request({ ...submit('mo'), command: 'deliver_sm' }));
  assert.equal((await peer.next('deliver_sm')).command, 'deliver_sm');
  peer.send({ ...submit('slow'), sequence_number: 5 });
  peer.socket.end();
  // The FIN is seen: what we asked can never be answered now.
  const r = await guard(mo, 'deliver_sm to be rejected');
  assert.ok(!r.ok && isClosedError(r.err));
  assert.ok(release, 'the request sent before the FIN is being handled');
  assert.equal(peer.isClosed, false, 'our side stays open while it is handled');
  release!({ message_id: 'm5' });
  const resp = (await peer.next('submit_sm_resp after the FIN')) as Resp;
  assert.deepEqual([resp.command, resp.sequence_number, resp.command_status, resp.message_id], ['submit_sm_resp', 5, 0, 'm5']);
  await guard(peer.closed, 'the connection to end');
  await guard(session.whenClosed(), 'session close');
  assert.equal(session.closeReason, 'peer closed the connection');
  assert.equal(peer.received.filter((p) => p.command === 'unbind').length, 0, 'no unbind to a peer that cannot answer');
});
