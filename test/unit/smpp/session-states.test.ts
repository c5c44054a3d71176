// The session's parts report events and the transition table decides: the states a state handler
// sees, in order, and events the table refuses having no effect. Real TCP on 127.0.0.1, a raw Peer
// on the far end, a manual clock for the timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESME_RINVBNDSTS } from '../../../src/smpp/defs.js';
import type { SessionState } from '../../../src/smpp/states.js';
import { bindEsme, dispose, guard, sessionWithPeer } from '../../helpers/peer.js';

test('SMSC side: open → binding → bound_trx → unbinding → closed, each announced once, on the peer bind and unbind', async (t) => {
  const seen: SessionState[] = [];
  const { session, peer } = await sessionWithPeer({
    role: 'smsc',
    handlers: { bind: () => ({ system_id: 'smsc' }), state: (_s, state) => void seen.push(state) },
  });
  t.after(() => dispose(session, peer));
  assert.equal((await peer.bind('bind_transceiver', { system_id: 'acct' })).command_status, 0);
  assert.equal(session.systemId, 'acct');
  peer.send({ command: 'unbind', sequence_number: 2 });
  assert.equal((await peer.next('unbind_resp')).command_status, 0);
  await guard(session.whenClosed(), 'session close');
  assert.deepEqual(seen, ['binding', 'bound_trx', 'unbinding', 'closed']);
});

test('SMSC side: a refused bind goes back to open, and a later bind is taken', async (t) => {
  const seen: SessionState[] = [];
  let calls = 0;
  const bind = () => (++calls === 1 ? { command_status: 0x0e } : { system_id: 'smsc' });
  const { session, peer } = await sessionWithPeer({ role: 'smsc', handlers: { bind, state: (_s, state) => void seen.push(state) } });
  t.after(() => dispose(session, peer));
  assert.equal((await peer.bind('bind_receiver')).command_status, 0x0e);
  assert.equal(session.state, 'open');
  assert.equal((await peer.bind('bind_receiver', {}, 2)).command_status, 0);
  assert.deepEqual(seen, ['binding', 'open', 'binding', 'bound_rx']);
});

test('SMSC side: the bind timeout is refused once bound (the session stays up), and closes one not bound', async (t) => {
  const handlers = { bind: () => ({ system_id: 'smsc' }) };
  const bound = await sessionWithPeer({ role: 'smsc', bindTimeoutMs: 1_000, handlers });
  t.after(() => dispose(bound.session, bound.peer));
  assert.equal((await bound.peer.bind('bind_transmitter')).command_status, 0);
  bound.clock.advance(5_000);
  assert.equal(bound.session.state, 'bound_tx');
  bound.peer.send({ command: 'enquire_link', sequence_number: 9 });
  assert.equal((await bound.peer.next('enquire_link_resp')).sequence_number, 9);

  const idle = await sessionWithPeer({ role: 'smsc', bindTimeoutMs: 1_000, handlers });
  t.after(() => dispose(idle.session, idle.peer));
  idle.clock.advance(1_000);
  await guard(idle.session.whenClosed(), 'bind timeout');
  assert.equal(idle.session.closeReason, 'bind timeout');
});

test('an unbind before any bind is refused ESME_RINVBNDSTS and changes nothing', async (t) => {
  const seen: SessionState[] = [];
  const { session, peer } = await sessionWithPeer({ role: 'esme', handlers: { state: (_s, state) => void seen.push(state) } });
  t.after(() => dispose(session, peer));
  peer.send({ command: 'unbind', sequence_number: 4 });
  const resp = await peer.next('unbind_resp');
  assert.deepEqual([resp.sequence_number, resp.command_status], [4, ESME_RINVBNDSTS]);
  assert.equal(session.state, 'open');
  await bindEsme(session, peer, 'bind_transceiver');
  assert.equal(session.systemId, 'esme');
  assert.deepEqual(seen, ['binding', 'bound_trx']);
});

test('ESME side: a bind answered with an error status goes back to open and rejects with BindError', async (t) => {
  const seen: SessionState[] = [];
  const { session, peer } = await sessionWithPeer({ role: 'esme', handlers: { state: (_s, state) => void seen.push(state) } });
  t.after(() => dispose(session, peer));
  const bind = session.bind('bind_transmitter', { system_id: 'esme' });
  const outcome = bind.then(
    () => 'bound',
    (err: Error & { code?: string }) => err.code,
  );
  peer.answer(await peer.next('bind_transmitter'), { command_status: 0x0d });
  assert.equal(await guard(outcome, 'bind'), 'SMPP_BIND_FAILED');
  assert.equal(session.state, 'open');
  assert.equal(session.systemId, '');
  assert.deepEqual(seen, ['binding', 'open']);
});

test('an idle link sends one enquire_link at a time, none once the close began', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', enquireLinkMs: 1_000, responseTimeoutMs: 60_000 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer);
  clock.advance(1_000);
  const first = await peer.next('enquire_link');
  assert.equal(first.command, 'enquire_link');
  clock.advance(3_000); // still unanswered: no second one
  assert.deepEqual(
    (await peer.sync()).map((p) => p.command),
    [],
  );
  peer.answer(first);
  await peer.sync();
  void session.close('test', 60_000);
  const unbind = await peer.next('unbind');
  assert.equal(unbind.command, 'unbind');
  clock.advance(5_000);
  assert.deepEqual(
    (await peer.sync()).map((p) => p.command),
    [],
  );
});
