// Session: the outbound window (FIFO waiters), the inbound window, response timeouts, enquire_link
// and write coalescing. Timeouts run on the ManualClock; the far end is a raw Peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PduError, ResponseTimeoutError } from '../../../src/smpp/errors.js';
import { ESME_RMSGQFUL } from '../../../src/smpp/defs.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import type { ResponseInit } from '../../../src/smpp/session.js';
import { bindEsme, dispose, guard, sessionWithPeer, submit, tagOf, turn } from '../../helpers/peer.js';

type Resp = Pdu & { message_id?: string };

test('window: with window N and a silent peer the (N+1)th request waits for a response; waiters go out in FIFO order', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme', window: 3 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const tags = ['A', 'B', 'C', 'D', 'E'];
  const settled: string[] = [];
  const replies = tags.map((tag) => session.request(submit(tag)).then((r: Resp) => (settled.push(tag), r)));
  // Whatever the session had written by the time it answered our enquire_link: only N requests.
  const first = await peer.sync();
  assert.deepEqual(first.map(tagOf), ['A', 'B', 'C']);
  assert.equal(session.inFlight, 3);
  assert.equal(session.canSend, false);
  // One response frees one slot: the oldest waiter (D) goes out, E still waits.
  peer.answer(first[1]!, { message_id: 'B' });
  const d = await peer.next('D');
  assert.equal(tagOf(d), 'D');
  assert.deepEqual(await peer.sync(), []);
  peer.answer(first[0]!, { message_id: 'A' });
  const e = await peer.next('E');
  assert.equal(tagOf(e), 'E');
  for (const req of [first[2]!, d, e]) peer.answer(req, { message_id: tagOf(req) });
  const resps = await guard(Promise.all(replies), 'all replies');
  assert.deepEqual(
    resps.map((r) => r.message_id),
    tags,
  );
  assert.deepEqual(settled, ['B', 'A', 'C', 'D', 'E']);
  assert.equal(session.inFlight, 0);
});

test('window: a request that cannot be encoded fails at once and does not stall the waiters behind it', async (t) => {
  const { session, peer } = await sessionWithPeer({ role: 'esme', window: 1 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const a = session.request(submit('A'));
  let badSettled = false;
  const bad = session.request(submit('bad', { destination_addr: '9'.repeat(40) })).finally(() => (badSettled = true));
  bad.catch(() => {});
  const c = session.request(submit('C'));
  const reqA = await peer.next('A');
  // Rejected while A is still in flight: it never took (and so never lost) a window slot.
  assert.equal(badSettled, true);
  await assert.rejects(bad, PduError);
  peer.answer(reqA, { message_id: 'A' });
  const reqC = await peer.next('C');
  assert.equal(tagOf(reqC), 'C');
  peer.answer(reqC, { message_id: 'C' });
  assert.equal(((await guard(a, 'A')) as Resp).message_id, 'A');
  assert.equal(((await guard(c, 'C')) as Resp).message_id, 'C');
});

test('inbound window: more unanswered requests than inboundWindow are answered ESME_RMSGQFUL', async (t) => {
  const held: Array<(init: ResponseInit) => void> = [];
  const { session, peer } = await sessionWithPeer({
    role: 'smsc',
    inboundWindow: 2,
    handlers: {
      bind: () => ({ system_id: 'smsc' }),
      request: (pdu) => (tagOf(pdu) === 'hold' ? new Promise<ResponseInit>((resolve) => held.push(resolve)) : { message_id: 'quick' }),
    },
  });
  t.after(() => dispose(session, peer));
  await peer.bind('bind_transmitter');
  peer.send({ ...submit('hold'), sequence_number: 10 }, { ...submit('hold'), sequence_number: 11 }, { ...submit('hold'), sequence_number: 12 });
  const full = await peer.next('the refusal');
  assert.deepEqual([full.command, full.sequence_number, full.command_status], ['submit_sm_resp', 12, ESME_RMSGQFUL]);
  assert.equal(held.length, 2);
  held.shift()!({ message_id: 'm10' });
  held.shift()!({ message_id: 'm11' });
  const done = [await peer.next(), await peer.next()] as Resp[];
  assert.deepEqual(
    done.map((r) => [r.sequence_number, r.command_status, r.message_id]),
    [
      [10, 0, 'm10'],
      [11, 0, 'm11'],
    ],
  );
  // The slots are free again.
  peer.send({ ...submit('after'), sequence_number: 13 });
  const after = (await peer.next()) as Resp;
  assert.deepEqual([after.sequence_number, after.command_status, after.message_id], [13, 0, 'quick']);
});

test('response timeout: rejects with SMPP_RESPONSE_TIMEOUT, frees the window slot, and a late response is ignored', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', window: 1, responseTimeoutMs: 1_000 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  let aSettled = false;
  const a = session.request(submit('A'));
  a.then(
    () => (aSettled = true),
    () => (aSettled = true),
  );
  const b = session.request(submit('B'));
  const reqA = await peer.next('A');
  assert.deepEqual(await peer.sync(), []); // B waits for the slot
  clock.advance(999);
  await turn();
  assert.equal(aSettled, false);
  clock.advance(1);
  await assert.rejects(a, (err: unknown) => err instanceof ResponseTimeoutError && err.code === 'SMPP_RESPONSE_TIMEOUT');
  const reqB = await peer.next('B, once the slot is free');
  assert.equal(tagOf(reqB), 'B');
  // A's answer arrives late: it matches nothing pending and must not settle B.
  peer.answer(reqA, { message_id: 'late-A' });
  assert.deepEqual(await peer.sync(), []);
  assert.equal(session.inFlight, 1);
  assert.equal(session.state, 'bound_tx');
  peer.answer(reqB, { message_id: 'B' });
  assert.equal(((await guard(b, 'B')) as Resp).message_id, 'B');
  assert.equal(session.outstanding, 0);
});

test('late response: a request sent with a LateResponse hears its answer after the timeout; without one by the end it hears undefined', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', window: 5, responseTimeoutMs: 1_000 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  const heard: Array<[string, string | undefined]> = [];
  const late = (tag: string) => ({ ms: 2_000, handle: (pdu: Pdu | undefined) => heard.push([tag, (pdu as Resp | undefined)?.message_id]) });
  const a = session.request(submit('A'), late('A'));
  const b = session.request(submit('B'), late('B'));
  const reqA = await peer.next('A');
  await peer.next('B');
  clock.advance(1_000);
  await assert.rejects(a, (err: unknown) => err instanceof ResponseTimeoutError);
  await assert.rejects(b, (err: unknown) => err instanceof ResponseTimeoutError);
  assert.equal(session.inFlight, 0, 'timed-out requests leave the window');
  // A's OK, late: heard.
  peer.answer(reqA, { message_id: 'late-A' });
  assert.deepEqual(await peer.sync(), []);
  assert.deepEqual(heard, [['A', 'late-A']]);
  // B never answered: given up lateMs after the peer last answered.
  clock.advance(1_999);
  await turn();
  assert.deepEqual(heard, [['A', 'late-A']]);
  clock.advance(1);
  await turn();
  assert.deepEqual(heard, [
    ['A', 'late-A'],
    ['B', undefined],
  ]);
});

test('enquire_link is answered always: before bind, while a bind is decided, and when bound', async (t) => {
  let decide: ((init: ResponseInit) => void) | undefined;
  const { session, peer } = await sessionWithPeer({
    role: 'smsc',
    handlers: { bind: () => new Promise<ResponseInit>((resolve) => (decide = resolve)) },
  });
  t.after(() => dispose(session, peer));
  const ask = async (seq: number) => {
    peer.send({ command: 'enquire_link', sequence_number: seq });
    const resp = await peer.next(`enquire_link_resp ${seq}`);
    assert.deepEqual([resp.command, resp.sequence_number, resp.command_status], ['enquire_link_resp', seq, 0]);
  };
  await ask(1);
  peer.send({ command: 'bind_transceiver', sequence_number: 2, system_id: 'esme', password: 'pw' });
  await ask(3);
  assert.equal(session.state, 'binding');
  decide!({ system_id: 'smsc' });
  assert.equal((await peer.next('bind resp')).command_status, 0);
  await ask(4);
  assert.equal(session.state, 'bound_trx');
});

test('enquire_link is sent after enquireLinkMs without traffic from the peer, outside the window', async (t) => {
  const { session, peer, clock, ours } = await sessionWithPeer({ role: 'esme', enquireLinkMs: 1_000, window: 1 });
  t.after(() => dispose(session, peer));
  let writes = 0;
  const write = ours.write.bind(ours) as (...args: unknown[]) => boolean;
  ours.write = ((...args: unknown[]) => (writes++, write(...args))) as typeof ours.write;
  clock.advance(600);
  // Traffic from the peer at t=600 restarts the idle period: the probe is due at 1600, not 1000.
  peer.send({ command: 'enquire_link', sequence_number: 9 });
  assert.equal((await peer.next()).command, 'enquire_link_resp');
  const before = writes;
  clock.advance(999);
  await turn();
  await turn();
  assert.equal(writes, before, 'nothing sent before the idle period is over');
  clock.advance(1);
  const probe = await peer.next('enquire_link');
  assert.equal(probe.command, 'enquire_link');
  assert.equal(session.outstanding, 1);
  assert.equal(session.inFlight, 0);
  assert.equal(session.canSend, true);
  peer.answer(probe);
  assert.deepEqual(await peer.sync(), []);
  assert.equal(session.outstanding, 0);
});

test('enquire_link: a dead peer is found and the session closed after enquireLinkMs + responseTimeoutMs', async (t) => {
  const { session, peer, clock } = await sessionWithPeer({ role: 'esme', enquireLinkMs: 1_000, responseTimeoutMs: 500 });
  t.after(() => dispose(session, peer));
  clock.advance(1_000);
  assert.equal((await peer.next('enquire_link')).command, 'enquire_link');
  clock.advance(499);
  await turn();
  assert.notEqual(session.state, 'closed');
  clock.advance(1);
  await guard(session.whenClosed(), 'session close');
  await guard(peer.closed, 'socket close at the peer');
  assert.equal(session.state, 'closed');
  assert.match(session.closeReason, /enquire_link/);
  assert.equal(clock.pendingTimers, 0, 'no timer left behind');
});

test('coalescing: N requests issued in one turn go out in one socket write', async (t) => {
  const { session, peer, ours } = await sessionWithPeer({ role: 'esme', window: 100 });
  t.after(() => dispose(session, peer));
  await bindEsme(session, peer, 'bind_transmitter');
  await turn();
  let writes = 0;
  const write = ours.write.bind(ours) as (...args: unknown[]) => boolean;
  ours.write = ((...args: unknown[]) => (writes++, write(...args))) as typeof ours.write;
  const n = 50;
  const replies = Array.from({ length: n }, (_, i) => session.request(submit(`m${i}`)));
  const got: Pdu[] = [];
  for (let i = 0; i < n; i++) got.push(await peer.next());
  assert.equal(writes, 1);
  assert.deepEqual(
    got.map(tagOf),
    Array.from({ length: n }, (_, i) => `m${i}`),
  );
  peer.send(...got.map((req) => ({ command: 'submit_sm_resp' as const, sequence_number: req.sequence_number, message_id: tagOf(req) })));
  assert.equal((await guard(Promise.all(replies), 'replies')).length, n);
});
